// Fine-tuning: training graphs emitted as ONNX from the Architecture table, run by ONNX Runtime.
