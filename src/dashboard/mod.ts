/**
 * The web dashboard (docs/dashboard.md): a page served by the daemon at `GET /ui/` from files
 * embedded in the binary, its session cookie, the cross-site rules and the `/ui/api/` routes.
 * The CLI gives {@link dashboard}'s routes and authorizer to `startDaemon`.
 *
 * @module
 */
export { type Asset, CONTENT_SECURITY_POLICY, loadAssets, unpackAssets } from "./assets.ts";
export { type CrossSiteOptions, crossSiteRefusal, DASHBOARD_HEADER } from "./cross_site.ts";
export {
  type Dashboard,
  dashboard,
  type DashboardOptions,
  type SessionState,
} from "./extension.ts";
export { DashboardError, type JsonRoute } from "./answer.ts";
export {
  type GraphEdge,
  type GraphNode,
  type GraphView,
  graphView,
  type GraphViewOptions,
  MAX_GRAPH_NODES,
} from "./graph_view.ts";
export {
  dashboardRoutes,
  type DashboardRoutesOptions,
  type DashboardService,
  dashboardServices,
  queueDo,
  recurringEntries,
  type RecurringEntry,
  recurringHistory,
} from "./routes.ts";
export {
  checkSession,
  DEFAULT_SESSION_TTL_MS,
  newSession,
  parseCookies,
  SESSION_COOKIE,
  sessionCookie,
} from "./session.ts";
