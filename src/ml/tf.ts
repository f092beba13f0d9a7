// tfjs for the app: core + layers only. The '@tensorflow/tfjs' bundle would statically import the
// webgl and cpu backends (and converter/data) into every chunk that uses it, so a page running on
// wasm would still download WebGL; src/ml/backend.ts loads the backend it picks lazily instead.
// Node code may keep importing '@tensorflow/tfjs': it re-exports these same modules.
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
