"""asr-billing's PostgreSQL database backend (settings: ENGINE ``asr_billing.core.postgresql``)."""
