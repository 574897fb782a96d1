# syntax=docker/dockerfile:1
#
# One Dockerfile, one target per service:
#   docker build --target order     -t eo-order:0.1.0 .
#   docker build --target inventory -t eo-inventory:0.1.0 .
# Both services are built from the same workspaces (the three libs are half of each), so the install and the
# `tsc -b` run are shared stages and the two targets differ only in which dist/, port and command they
# carry. Two Dockerfiles would repeat every line but three.

ARG NODE_IMAGE=node:24-bookworm-slim

# The workspace manifests and the lock file: `npm ci` checks every workspace listed in the root
# package.json against the lock, so all of them come along (a few hundred bytes each).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/exactly-once/package.json libs/exactly-once/
COPY libs/contract/package.json libs/contract/
COPY libs/platform/package.json libs/platform/
COPY libs/local/package.json libs/local/
COPY order/package.json order/
COPY inventory/package.json inventory/
COPY tools/package.json tools/
COPY test/package.json test/

# Compiles the libs, order and inventory (dev dependencies for tsc only live here).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /app ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --workspace libs/exactly-once --workspace libs/contract --workspace libs/platform \
      --workspace order --workspace inventory --include-workspace-root \
      --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY libs/exactly-once libs/exactly-once
COPY libs/contract libs/contract
COPY libs/platform libs/platform
COPY order order
COPY inventory inventory
RUN npx tsc -b order inventory

# Production dependencies of both services from the lock file; the @eo/* libs stay workspace symlinks
# (node_modules/@eo/platform -> ../../libs/platform), exactly as in the repository. No dependency has an
# install script, so none is run.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /app ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --workspace order --workspace inventory --omit=dev --ignore-scripts --no-audit --no-fund

# What both services run on: tini as PID 1 (forwards SIGTERM to node, reaps zombies), the shared
# node_modules and the libs (dist, and the engine's Lua scripts and includes it loads at runtime).
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /app/package.json ./
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/libs/exactly-once/package.json libs/exactly-once/
COPY --from=build /app/libs/exactly-once/dist libs/exactly-once/dist
COPY --from=build /app/libs/exactly-once/lua libs/exactly-once/lua
COPY --from=build /app/libs/contract/package.json libs/contract/
COPY --from=build /app/libs/contract/dist libs/contract/dist
COPY --from=build /app/libs/platform/package.json libs/platform/
COPY --from=build /app/libs/platform/dist libs/platform/dist
# Numeric, so Kubernetes' runAsNonRoot can verify it (uid 1000 is the image's `node` user).
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--"]

FROM runtime AS order
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="eo-order" \
      org.opencontainers.image.description="Order service: accepts orders and publishes OrderPlaced" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      com.datadoghq.tags.service="order" \
      com.datadoghq.tags.version="${VERSION}"
ENV PORT=3001 \
    DD_SERVICE=order \
    DD_VERSION=${VERSION}
COPY --from=build /app/order/package.json order/
COPY --from=build /app/order/dist order/dist
COPY --from=build /app/order/lua order/lua
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health/ready',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "/app/order/dist/main.js"]

FROM runtime AS inventory
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="eo-inventory" \
      org.opencontainers.image.description="Inventory service: reserves stock exactly once per order; runs as N replicas" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      com.datadoghq.tags.service="inventory" \
      com.datadoghq.tags.version="${VERSION}"
ENV PORT=3002 \
    DD_SERVICE=inventory \
    DD_VERSION=${VERSION}
COPY --from=build /app/inventory/package.json inventory/
COPY --from=build /app/inventory/dist inventory/dist
COPY --from=build /app/inventory/lua inventory/lua
EXPOSE 3002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health/ready',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "/app/inventory/dist/main.js"]
