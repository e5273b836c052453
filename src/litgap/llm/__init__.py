"""The model reviewer: an OpenAI-compatible chat-completions server judges passages, and
every verdict is recorded as an `evidence_review` decision with `source: "llm"`.

- `settings.py`: where the server is (LITGAP_LLM_*), and a job's `llm_review` config;
- `client.py`: one chat-completions call over httpx, retries, the budget;
- `template.py`: the prompt template (versioned), the request and the verdict schema;
- `cache.py`: answers by (model, request hash), so no question is paid for twice;
- `review.py`: which passages are judged, and each verdict recorded through JobContext.
"""
