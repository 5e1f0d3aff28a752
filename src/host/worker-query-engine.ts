// What a worker needs to answer view queries, loaded on demand (the query
// compiler pulls in node-sql-parser: workers that never answer a query, and
// the start-up path, do not pay for it).
export { compileViews } from "./compile-views.js";
export { liveShape } from "../live/shape.js";
export { encodeRows, QueryChunks } from "../live/query-chunks.js";
