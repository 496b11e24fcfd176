"""The survey conversation: which question to ask, what an answer does, what to reply.

One :class:`SurveyFlow` is built per update from the stored answers and the FSM data, acts on
one event (typed text, a button) and returns the replies to send. Answers are saved the moment
they are valid; the FSM only remembers what is on screen (current question, pending matches,
quiz progress), so a restart or a lost connection never loses an answer.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.matching.catalog import load_trades
from bot.matching.communes import CommuneMatcher
from bot.matching.trades import TradeMatcher
from bot.quiz import Quiz, load_quiz, recommend
from bot.reporting import labels
from bot.survey import (
    Question,
    Survey,
    add_trade,
    applicable,
    finish_list,
    next_question,
    parse_choice,
    parse_skip,
    parse_text_answer,
    progress,
    text,
    toggle_choice,
    trade_limit,
)
from bot.survey import service as svc
from bot.survey.model import OPTION_TYPES
from handlers import survey_views as views
from storage.models import Person

Reply = views.Reply


class SurveyStates(StatesGroup):
    """State names are a schema: they are stored in the database, do not rename them."""

    answering = State()
    summary = State()


# the raw FSM state names of a person in the survey
SURVEY_STATES = frozenset(SurveyStates.__all_states_names__)


@lru_cache(maxsize=1)
def trade_matcher() -> TradeMatcher:
    return TradeMatcher(load_trades())


@lru_cache(maxsize=4)
def commune_matcher(province_code: int) -> CommuneMatcher:
    return CommuneMatcher(province_code)


@lru_cache(maxsize=1)
def quiz() -> Quiz:
    return load_quiz()


@dataclass
class SurveyFlow:
    session: AsyncSession
    person: Person
    fsm: FSMContext
    st: svc.SurveyState
    data: dict[str, Any]
    province_code: int = 20
    toast: str | None = None
    # a pressed button was taken: its message may show the answer and lose its keyboard
    answered: bool = True
    survey: Survey = field(default_factory=svc.survey)

    @property
    def lang(self) -> str:
        return self.person.language or "vi"

    def t(self, key: str, **fmt: Any) -> str:
        return text(self.survey, key, self.lang, **fmt)

    # ------------------------------------------------------------ where we are

    def current(self) -> Question | None:
        """The question on screen: one being edited or kept open (trades), else the next one."""
        live = {q.id: q for q in applicable(self.survey, self.st.answers)}
        for key in ("edit", "open"):
            qid = self.data.get(key)
            if qid in live:
                return live[qid]
        # next_question(), on the walk just made
        return next((q for q in live.values() if q.id not in self.st.answers), None)

    async def _save_data(self, **changes: Any) -> None:
        self.data.update(changes)
        self.data = {k: v for k, v in self.data.items() if v is not None}
        await self.fsm.set_data(self.data)

    async def ask(
        self, question: Question | None = None, *, prefix: list[Reply] | None = None
    ) -> list[Reply]:
        """Show ``question`` (default: the current one), or the summary when all is answered."""
        replies = list(prefix or [])
        question = question or self.current()
        if question is None:
            return replies + await self.summary()
        # the question on screen follows from the answers (and edit/open): nothing to remember
        await self.fsm.set_state(SurveyStates.answering)
        chosen = self.st.answers.get(question.id) if question.type == "trade" else None
        if question.type == "trade" and self.data.get("fresh") == question.id:
            chosen = None
        if question.type == "multi_choice":
            chosen = self.data.get("multi")
        replies.append(
            views.question_reply(self.survey, question, self.st.answers, self.lang, chosen=chosen)
        )
        return replies

    async def summary(self) -> list[Reply]:
        await self.fsm.set_state(SurveyStates.summary)
        await self.fsm.set_data({})
        self.data = {}
        return [views.summary_reply(self.survey, self.st.answers, self.lang)]

    async def enter(self) -> list[Reply]:
        """/survey: start, resume where they stopped, or review once done."""
        answers = self.st.answers
        question = self.current()
        if not answers:
            return await self.ask(prefix=[Reply(self.t("intro"))])
        if question is None:
            return await self.summary()
        n, total = progress(self.survey, answers, question)
        return await self.ask(prefix=[Reply(self.t("resume", n=max(n, 1), total=total))])

    async def stale(self) -> list[Reply]:
        """A button from an old message or forged data: say so, show the current question."""
        self.toast, self.answered = self.t("stale_button"), False
        return await self.ask()

    async def again(self, question: Question, error: str | None) -> list[Reply]:
        """An answer refused: say why and ask the same question again."""
        self.answered = False
        return await self.ask(question, prefix=[views.error_reply(error or "")])

    async def not_text(self) -> list[Reply]:
        """A sticker, photo or voice message: press a button where buttons answer, else type."""
        question, given = self.current(), self.data.get("quiz")
        buttons = views.error_reply(self.t("use_buttons"))
        if question is not None and question.type == "trade" and given is not None:
            return [buttons, views.quiz_reply(quiz(), len(given), self.lang)]  # mid-quiz
        if question is None or question.type in OPTION_TYPES:
            return await self.ask(question, prefix=[buttons])
        return await self.ask(question, prefix=[views.error_reply(self.t("text_expected"))])

    # ------------------------------------------------------------ storing

    async def _store(
        self, question: Question, value: Any, raw: str | None, *, typed: bool = False
    ) -> list[Reply]:
        """Save a valid answer and move on; a typed answer is echoed as understood."""
        if question.type == "consent" and value == "none":
            await svc.refuse(self.session, self.person)
            await self.fsm.clear()
            return [Reply(self.t("refused"))]
        if question.saves_as and value is not None:
            question = self.survey.question(question.saves_as)
        await svc.save_answer(self.session, self.person, self.st, question, value, raw)
        if self.st.completed:
            await svc.reopen(self.session, self.st)
        prefix = views.echo_replies(self.survey, question, value, self.lang) if typed else []
        await self._save_data(edit=None, open=None, fresh=None, pending=None, multi=None, quiz=None)
        return await self.ask(prefix=prefix)

    # ------------------------------------------------------------ events

    async def typed(self, typed: str, *, today: date) -> list[Reply]:
        question = self.current()
        if question is None:
            return await self.summary()
        if question.type == "phone" and typed.strip() == self.t("skip"):
            parsed = parse_skip(self.survey, question, self.lang)
        else:
            parsed = parse_text_answer(
                self.survey, question, typed, self.lang, self.st.answers, today
            )
        if parsed.needs_matcher:
            if question.type == "commune":
                return await self._commune_typed(question, str(parsed.value))
            return await self._trade_typed(question, str(parsed.value))
        if parsed.ok:
            return await self._store(question, parsed.value, typed[:1000], typed=True)
        error = parsed.error or self.t("not_a_choice")
        if question.type == "text" and parsed.error_key != "too_long":
            error = f"«{html.escape(typed[:100])}»: {error}"  # shown escaped, never as markup
        return await self.again(question, error)

    async def pressed(self, qid: str, value: str) -> list[Reply]:
        question = self.current()
        if question is None or question.id != qid:
            return await self.stale()
        if value == "_skip":
            parsed = parse_skip(self.survey, question, self.lang)
        elif question.type == "multi_choice":
            current = self.data.get("multi") or []
            parsed = (
                finish_list(self.survey, question, current, self.lang)
                if value == "_done"
                else toggle_choice(self.survey, question, current, value, self.lang)
            )
            if parsed.ok and value != "_done":  # a tick, not yet the answer
                self.answered = False
                await self._save_data(multi=parsed.value)
                return await self.ask(question)
        else:
            parsed = parse_choice(question, value, self.survey, self.lang)
        if not parsed.ok:
            return await self.again(question, parsed.error)
        return await self._store(question, parsed.value, None)

    # ------------------------------------------------------------ communes

    async def _commune_typed(self, question: Question, typed: str) -> list[Reply]:
        result = commune_matcher(self.province_code).match(typed)
        if result.decision == "accept":
            code = result.candidates[0][0]
            return await self._store(question, code, typed, typed=True)
        if result.decision == "ask":
            pairs = [(c[0], c[1]) for c in result.candidates[:5]]
            await self._save_data(pending={"raw": typed, "codes": [p[0] for p in pairs]})
            return [views.commune_ask_reply(self.survey, self.lang, pairs)]
        if result.decision == "outside":
            msg = self.t(
                "commune_outside",
                name=html.escape(typed[:60]),
                province=html.escape(result.outside_province_name or ""),
            )
        else:
            msg = self.t("commune_none", text=html.escape(typed[:60]))
        return await self.again(question, msg)

    async def commune_picked(self, code: str) -> list[Reply]:
        question = self.current()
        pending = self.data.get("pending") or {}
        if question is None or question.type != "commune":
            return await self.stale()
        if code and code not in pending.get("codes", []):
            return await self.stale()
        if not code:
            await self._save_data(pending=None)
            return await self.ask(question)
        return await self._store(question, code, pending.get("raw"))

    # ------------------------------------------------------------ trades

    def _chosen(self, question: Question) -> list[dict[str, Any]]:
        if self.data.get("fresh") == question.id:
            return []
        return list(self.st.answers.get(question.id) or [])

    async def _trade_typed(self, question: Question, typed: str) -> list[Reply]:
        result = trade_matcher().match(typed)
        if result.decision == "unknown":
            return await self._quiz_start()
        if result.decision == "none" or not result.candidates:
            return [views.trade_none_reply(self.survey, self.lang, typed)]
        scores = {c.code: float(c.score) for c in result.candidates[:3]}
        await self._save_data(pending={"raw": typed, "source": "typed", "scores": scores})
        if result.decision == "accept":
            return [views.trade_confirm_reply(self.survey, self.lang, result.candidates[0].code)]
        return [views.trade_ask_reply(self.survey, self.lang, list(scores))]

    async def trade_action(self, act: str, code: str) -> list[Reply]:
        question = self.current()
        if question is None or question.type != "trade":
            return await self.stale()
        if act in ("ok", "pick"):
            return await self._trade_pick(question, code)
        if act == "retype":
            await self._save_data(pending=None, quiz=None)
            return await self.ask(question)
        if act == "quiz":
            return await self._quiz_start()
        if act == "done":
            if self.data.get("fresh") == question.id and question.id in self.st.answers:
                # editing the trades but none picked yet: keep the earlier choices
                await self._save_data(open=None, edit=None, fresh=None, pending=None)
                return await self.ask()
            parsed = finish_list(self.survey, question, self._chosen(question), self.lang)
            if not parsed.ok:
                return await self.again(question, parsed.error)
            await self._save_data(open=None, edit=None, fresh=None, pending=None)
            return await self.ask()
        return await self.stale()

    async def _trade_pick(self, question: Question, code: str) -> list[Reply]:
        pending = self.data.get("pending") or {}
        scores = pending.get("scores") or {}
        if code not in scores:
            return await self.stale()
        parsed = add_trade(
            self.survey,
            question,
            self._chosen(question),
            code=code,
            raw=str(pending.get("raw") or ""),
            score=float(scores[code]),
            source=str(pending.get("source") or "typed"),
            lang=self.lang,
        )
        if not parsed.ok:
            await self._save_data(pending=None)
            return await self.again(question, parsed.error)
        await svc.save_answer(
            self.session, self.person, self.st, question, parsed.value, pending.get("raw")
        )
        if self.st.completed:
            await svc.reopen(self.session, self.st)
        count, limit = len(parsed.value), trade_limit(question)
        added = Reply(
            self.t("trade_added", rank=count, name=html.escape(labels.trade_name(code, self.lang)))
        )
        if count >= limit:
            await self._save_data(open=None, edit=None, fresh=None, pending=None, quiz=None)
            return await self.ask(prefix=[added])
        await self._save_data(open=question.id, fresh=None, pending=None, quiz=None)
        more = Reply(self.t("trade_add_another", count=count, max=limit))
        return await self.ask(question, prefix=[added, more])

    # ------------------------------------------------------------ interest quiz

    async def _quiz_start(self) -> list[Reply]:
        await self._save_data(quiz={}, pending=None)
        return [views.quiz_reply(quiz(), 0, self.lang)]

    async def quiz_answer(self, index: int, value: str) -> list[Reply]:
        question = self.current()
        given = self.data.get("quiz")
        q = quiz()
        if question is None or question.type != "trade" or given is None or index != len(given):
            return await self.stale()
        if value not in {option.value for option in q.scale}:
            return await self.stale()
        given = {**given, q.items[index].id: value}
        if len(given) < len(q.items):
            await self._save_data(quiz=given)
            return [views.quiz_reply(q, len(given), self.lang)]
        catalog = trade_matcher().catalog
        chosen = {e["code"] for e in self._chosen(question)}
        trades = [
            t for t in recommend(catalog, given, n=3 + len(chosen), quiz=q) if t.code not in chosen
        ]
        codes = [t.code for t in trades[:3]]
        await self._save_data(
            quiz=None,
            pending={
                "raw": "quiz:" + q.top_areas(given),
                "source": "quiz",
                "scores": dict.fromkeys(codes, 100.0),
            },
        )
        message = q.result_message(given, self.lang)
        return [views.quiz_result_reply(self.survey, message, self.lang, codes)]

    # ------------------------------------------------------------ summary actions

    async def edit(self, qid: str) -> list[Reply]:
        live = {q.id: q for q in applicable(self.survey, self.st.answers)}
        question = live.get(qid)
        if question is None or not question.editable or qid not in self.st.answers:
            return await self.stale()
        fresh = qid if question.type == "trade" else None
        await self._save_data(
            edit=qid, open=qid if fresh else None, fresh=fresh, pending=None, multi=None, quiz=None
        )
        return await self.ask(question)

    async def confirm(self) -> list[Reply]:
        if next_question(self.survey, self.st.answers) is not None:
            return await self.stale()
        await svc.complete(self.session, self.person, self.st)
        await self.fsm.clear()
        return [Reply(self.t("confirmed"))]


async def open_flow(
    session: AsyncSession,
    person: Person,
    fsm: FSMContext,
    province_code: int = 20,
    survey_state: svc.SurveyState | None = None,
) -> SurveyFlow:
    """Build the flow for one update from the stored answers (``survey_state`` when the person
    middleware read them already) and the FSM data."""
    st = await svc.open_state(session, person, survey_state)
    data = await fsm.get_data()
    return SurveyFlow(
        session=session, person=person, fsm=fsm, st=st, data=data, province_code=province_code
    )
