import { Transform } from "node:stream";
export default class CountingReporter extends Transform {}
