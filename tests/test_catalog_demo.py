"""Demo mode (no BOT_TOKEN) starts with the sample catalog, marked, in the admin lists."""

from __future__ import annotations

import httpx

from tests.test_demo_mode import Demo, demo  # noqa: F401 (the running demo fixture)


async def test_demo_mode_loads_the_sample_catalog(demo: Demo) -> None:  # noqa: F811
    assert "sample catalog loaded" in demo.log.read_text()
    async with httpx.AsyncClient(base_url=demo.admin_url) as http:
        login = await http.get("/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"username": "admin", "password": "xuatngu-demo", "csrf_token": token}
        await http.post("/login", data=form)
        courses = await http.get("/catalog/courses")
        fairs = await http.get("/catalog/job_fairs")
    assert courses.status_code == 200 and fairs.status_code == 200
    assert "[MẪU] Hàn điện cơ bản" in courses.text and 'class="badge sample"' in courses.text
    assert "[MẪU] Phiên giao dịch việc làm định kỳ" in fairs.text
