"""The course and job catalog: its vocabularies (``content/catalog.yaml``) and the rules for
institutions, courses, support policies, employers, job fairs and vacancies."""
