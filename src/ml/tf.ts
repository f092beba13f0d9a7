// tfjs for the app: core + layers only. The '@tensorflow/tfjs' bundle would statically import the
// webgl and cpu backends (and converter/data) into every chunk that uses it, so a page running on
// wasm would still download WebGL; src/ml/backend.ts loads the backend it picks lazily instead.
// The bundle's two side-effect imports (gradients; chained ops such as tensor.matMul, which
// tfjs-layers uses) are made by backend.ts, which every browser worker imports: their ESM files
// cannot load in Node, where '@tensorflow/tfjs' (src/ml/tf-node.ts) registers both.
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
