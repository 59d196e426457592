# Production image: the same code and locked dependencies for web, worker and beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PRILAVOK_ENV=production
WORKDIR /app
RUN useradd --create-home --uid 1000 prilavok
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# collectstatic needs settings to import; dummy values only for this build step.
RUN SECRET_KEY=build-only-not-used-at-runtime-000000000000000000000000 ALLOWED_HOSTS=build \
    FIELD_ENCRYPTION_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput && python manage.py compile_translations
USER prilavok
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
