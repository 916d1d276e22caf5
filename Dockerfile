# syntax=docker/dockerfile:1
#
# The cdc-sync pipeline as a container image (docker-compose.yml builds it as
# cdc-sync:local). Two stages: the build stage installs every dependency and
# compiles TypeScript; the runtime stage gets only dist/, production
# node_modules and the schemas, and runs as the unprivileged `node` user.
#
#   docker build -t cdc-sync:local .
#   docker run --rm cdc-sync:local --help

# The Node.js line CI builds and tests on (.nvmrc); package.json engines names every supported one.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# schemas/ may not exist yet in a fresh clone (git keeps no empty folders); the runtime stage copies it.
RUN npm run build \
    && npm prune --omit=dev --no-audit --no-fund \
    && mkdir -p schemas

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Canonical event schemas (schemas/*.avsc) sit beside dist/ for code that loads them at run time.
COPY --from=build /app/schemas ./schemas
# Files stay root-owned, so the pipeline cannot modify its own code. The user is
# the image's `node` (uid 1000), given by number so that runAsNonRoot checks can verify it.
USER 1000:1000
# Health and metrics endpoint; the pipeline must bind it on 0.0.0.0 in a container.
EXPOSE 9464
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run", "--config", "/config/pipeline.yaml"]
