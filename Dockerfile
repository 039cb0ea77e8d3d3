# bluegreen's own image, for CI agents (e.g. a Jenkins `agent { docker { image 'bluegreen' } }`).
# Build: docker build -t bluegreen .    Run: docker run --rm -v "$PWD:/work" bluegreen plan deployments/
# It carries the [local] extra (moto's server), so `docker run --rm bluegreen demo` works with no AWS account.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bluegreen ./bluegreen
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[local]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bluegreen
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "bluegreen[local]" && rm -rf /wheels
USER bluegreen
WORKDIR /work
ENTRYPOINT ["bluegreen"]
CMD ["--help"]
