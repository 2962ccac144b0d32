// Pictures of what jit does: IR graphs (dot text, inline SVG, the before/after-fusion page), per-kernel
// profiles, and the training dashboard drawn from jsonlLogger's scalars.
export { buildGraph } from './graph.js';
export type { VizGraph, VizNode, VizEdge, VizCluster } from './graph.js';
export { toDot, graphToDot } from './dot.js';
export type { DotOptions } from './dot.js';
export { graphSvg } from './svg.js';
export { vizHtml, fusionViews } from './html.js';
export type { VizHtmlOptions, FusionViews } from './html.js';
export { profileKernels, profileKernelsAsync, profileFunction, profileFunctionAsync } from './profile.js';
export type { KernelProfile, ProfileOptions, ProfileResult } from './profile.js';
export { reportHtml, parseJsonl } from './dashboard.js';
export type { Run, LogRecord, ReportOptions } from './dashboard.js';
export { lineChart } from './chart.js';
