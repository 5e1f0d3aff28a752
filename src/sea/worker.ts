// The worker bundle's entry inside the single executable: the same worker as
// from source, with native modules redirected like in the main thread.
import "./require-hook.js";
import "../host/worker-main.js";
