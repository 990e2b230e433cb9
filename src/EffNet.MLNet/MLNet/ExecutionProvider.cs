namespace EffNet.MLNet;

/// <summary>Where ONNX Runtime executes the backbone.</summary>
public enum ExecutionProvider
{
    /// <summary>ONNX Runtime's CPU kernels (always available).</summary>
    Cpu,
    /// <summary>
    /// NVIDIA CUDA. Needs the ONNX Runtime GPU native libraries (the Microsoft.ML.OnnxRuntime.Gpu
    /// package in place of Microsoft.ML.OnnxRuntime) and a CUDA-capable driver.
    /// </summary>
    Cuda,
}
