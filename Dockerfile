FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --upgrade pip && pip install -r requirements.lock
COPY . .
RUN pip install --no-deps -e . && useradd --create-home mediamon
USER mediamon
CMD ["mediamon", "--help"]
