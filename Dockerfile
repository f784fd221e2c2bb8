# syntax=docker/dockerfile:1
# Ticket Service image: build TypeScript in one stage, run the compiled output with
# production dependencies only, as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY actors ./actors
COPY protos ./protos
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY protos ./protos
# The operator's page (GET /admin): static files, no build step.
COPY admin ./admin
# `ticketctl` on the PATH (kubectl exec … -- ticketctl shards list; the migration init container).
RUN chmod 0755 dist/src/cli/ticketctl.js && ln -s /app/dist/src/cli/ticketctl.js /usr/local/bin/ticketctl
USER node
# 3002 REST, 50052 public gRPC, 50053 pod-to-pod gRPC (INTERNAL_GRPC_PORT)
EXPOSE 3002 50052 50053
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3002)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# exec form: node is PID 1 and receives SIGTERM directly, so the service drains.
CMD ["node", "dist/src/main.js"]
