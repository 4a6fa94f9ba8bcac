# graybridge forwarder image. Multi-stage: build with the dev toolchain, ship compiled dist and
# production dependencies only, run as a non-root user on a read-only root filesystem.
# Not built in this repository's CI (no container runtime there); see docs/deploy.md.

# ---- the workspace manifests npm ci needs (every workspace is listed in the root package.json) ----
FROM node:24.21.0-bookworm-slim AS manifests
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/log-sdk/package.json packages/log-sdk/
COPY packages/enricher/package.json packages/enricher/
COPY packages/forwarder/package.json packages/forwarder/
COPY test/rig/package.json test/rig/
COPY test/package.json test/
COPY bench/package.json bench/

# ---- build: compile every workspace the forwarder needs ----
FROM manifests AS build
COPY tsconfig.json tsconfig.base.json ./
RUN npm ci --ignore-scripts
COPY packages packages
COPY test/rig test/rig
RUN npx tsc -b packages/forwarder

# ---- production dependencies of the forwarder only ----
FROM manifests AS deps
RUN npm ci --omit=dev --ignore-scripts --workspace @graybridge/forwarder --include-workspace-root=false

# ---- runtime ----
FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /src/node_modules node_modules
COPY --from=build /src/packages/enricher/package.json packages/enricher/package.json
COPY --from=build /src/packages/enricher/dist/src packages/enricher/dist/src
COPY --from=build /src/packages/forwarder/package.json packages/forwarder/package.json
COPY --from=build /src/packages/forwarder/dist/src packages/forwarder/dist/src
# The chart's default flags (values.yaml nodeArgs) must be ones this node accepts.
RUN node --max-old-space-size=512 --heap-growing-percent=300 -e 0
USER 10001:10001
EXPOSE 9464
# The chart's `command` repeats this path with node's flags in front (nodeArgs, _helpers.tpl).
ENTRYPOINT ["node", "packages/forwarder/dist/src/cli/main.js"]
CMD ["forward"]
