using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EffNet.MLNet.AspNetCore;

/// <summary>Registers image classifiers with dependency injection, as <c>AddPredictionEnginePool</c> does for ML.NET.</summary>
public static class ImageClassifierServiceCollectionExtensions
{
    /// <summary>
    /// Register the model at <paramref name="modelPath"/> as the default classifier: handlers take a
    /// <see cref="PooledPredictor"/> (or <see cref="ImageClassifiers"/> for named models).
    /// </summary>
    public static IServiceCollection AddImageClassifier(this IServiceCollection services, string modelPath, PooledPredictorOptions? options = null) =>
        services.AddImageClassifier(ImageClassifiers.DefaultName, modelPath, options);

    /// <summary>Register the model at <paramref name="modelPath"/> under <paramref name="name"/>; resolve it with <c>classifiers[name]</c>.</summary>
    /// <param name="services">The app's services.</param>
    /// <param name="name">The model's name.</param>
    /// <param name="modelPath">The model <c>.zip</c>; a relative path is resolved against the current directory now, at registration.</param>
    /// <param name="options">The context, engines kept and reload-on-change; default: <see cref="PooledPredictorOptions"/>'s defaults.</param>
    public static IServiceCollection AddImageClassifier(this IServiceCollection services, string name, string modelPath, PooledPredictorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        var registry = Registry(services);
        registry.Add(name, Path.GetFullPath(modelPath), options ?? new PooledPredictorOptions());
        return services;
    }

    // One registry per service collection, made by a factory so the container disposes it (and its models).
    private static ImageClassifiers Registry(IServiceCollection services)
    {
        var existing = services.OfType<ServiceDescriptor>().FirstOrDefault(d => d.ServiceType == typeof(RegistryHolder));
        if (existing?.ImplementationInstance is RegistryHolder holder) return holder.Registry;
        var registry = new ImageClassifiers();
        services.AddSingleton(new RegistryHolder(registry));
        services.AddSingleton(_ => registry);
        services.TryAddSingleton(sp => sp.GetRequiredService<ImageClassifiers>().Default);
        return registry;
    }

    private sealed class RegistryHolder(ImageClassifiers registry)
    {
        public ImageClassifiers Registry { get; } = registry;
    }
}
