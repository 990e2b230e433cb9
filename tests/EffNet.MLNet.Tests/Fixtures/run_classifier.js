// Runs an exported classifier with onnxruntime-node: node run_classifier.js MODEL.onnx PIXELS.bin N SIZE
// PIXELS.bin holds N*3*SIZE*SIZE little-endian float32 values; prints {scores, predicted_index} as JSON.
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const [model, pixelsFile, n, size] = process.argv.slice(2);
  const bytes = fs.readFileSync(pixelsFile);
  const pixels = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const session = await ort.InferenceSession.create(model);
  const input = new ort.Tensor('float32', pixels, [Number(n), 3, Number(size), Number(size)]);
  const output = await session.run({ pixels: input });
  console.log(JSON.stringify({
    scores: Array.from(output.scores.data),
    predicted_index: Array.from(output.predicted_index.data, Number),
  }));
})().catch(e => { console.error(e); process.exit(1); });
