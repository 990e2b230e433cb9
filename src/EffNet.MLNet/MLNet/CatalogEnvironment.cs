using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace EffNet.MLNet;

/// <summary>
/// The ML.NET environment behind <c>mlContext.Transforms</c>, so the featurizer logs, draws seeds and
/// honours cancellation under the caller's <see cref="MLContext"/>. ML.NET's own estimators reach it
/// through an internal accessor; a package outside ML.NET can only read the catalog's private field
/// (stable since ML.NET 1.0, and held by a test on the version this library references). Should a
/// later ML.NET rename it, the featurizer still works, under a private context with seed 0.
/// </summary>
internal static class CatalogEnvironment
{
    private static readonly FieldInfo? EnvironmentField =
        typeof(TransformsCatalog).GetField("_env", BindingFlags.Instance | BindingFlags.NonPublic);

    // MLContext.CancelExecution (public through Microsoft.ML.Experimental) sets this on the environment.
    private static readonly PropertyInfo? CancelledProperty =
        EnvironmentField?.FieldType.Assembly.GetType("Microsoft.ML.Runtime.ICancelable")?.GetProperty("IsCanceled");

    /// <summary>The catalog's environment, or null where this ML.NET keeps it elsewhere.</summary>
    public static IHostEnvironment? Of(TransformsCatalog catalog) => EnvironmentField?.GetValue(catalog) as IHostEnvironment;

    /// <summary>Whether <c>CancelExecution()</c> was called on the context that owns <paramref name="environment"/>.</summary>
    public static bool IsCancelled(IHostEnvironment environment) =>
        CancelledProperty is not null && CancelledProperty.DeclaringType!.IsInstanceOfType(environment) && (bool)CancelledProperty.GetValue(environment)!;
}
