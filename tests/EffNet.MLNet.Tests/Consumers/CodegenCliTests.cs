using System.Globalization;
using System.Text;
using EffNet.MLNet.Cli.Codegen;
using EffNet.MLNet.Training;

namespace EffNet.MLNet.Tests.Consumers;

/// <summary><c>effnet codegen</c>'s refusals and what it writes, without building the result (CodegenRoundTripTests builds it).</summary>
public class CodegenCliTests(TrainingTests.SampleFeatures features) : IClassFixture<TrainingTests.SampleFeatures>
{
    // Mutation: CodegenCommand drops the "not empty" check -> the user's file is replaced by nothing, exit 0 -> fails.
    [Fact]
    public void A_non_empty_folder_is_refused_without_force_and_with_force_only_generated_files_are_written()
    {
        using var dir = new TempDir();
        var model = features.SaveModel(dir, "model.zip", TrainerKind.Lbfgs);
        var output = Directory.CreateDirectory(dir.File("Gen")).FullName;
        File.WriteAllText(Path.Combine(output, "notes.txt"), "mine");

        var refused = CliTests.Effnet("codegen", "--model", model, "--out", output);
        Assert.Equal(2, refused.Code);
        Assert.Contains($"'{output}' is not empty; pass --force", refused.Err);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(output).Select(Path.GetFileName));

        // The model itself sits where the copy would go: it is read, never replaced or lost.
        Directory.CreateDirectory(Path.Combine(output, "Gen"));
        var inside = Path.Combine(output, "Gen", "Gen.zip");
        File.Copy(model, inside);
        var forced = CliTests.Effnet("codegen", "--model", inside, "--out", output, "--force");
        Assert.True(forced.Code == 0, forced.Out + forced.Err);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(output, "notes.txt")));
        Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(inside));
        Assert.Equal(["Gen.csproj", "Gen.zip", "ImageModel.cs", "ModelInput.cs", "ModelOutput.cs"],
            Directory.GetFiles(Path.Combine(output, "Gen")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(output, "Gen.Web")));   // only with --web

        // The labels come from the model's slot names when no model.json is beside it; the version from this effnet.
        var code = File.ReadAllText(Path.Combine(output, "Gen", "ImageModel.cs"));
        Assert.Contains("\"checkers\",\n        \"discs\",\n        \"stripes\",", code);
        Assert.Contains($"Include=\"EffNet.MLNet\" Version=\"{EffNet.MLNet.Cli.ToolVersion.Current}\"", File.ReadAllText(Path.Combine(output, "Gen", "Gen.csproj")));
    }

    [Theory]
    [InlineData("--namespace", "class", "C# keyword")]
    [InlineData("--namespace", "My-App", "is not a C# namespace")]
    [InlineData("--namespace", "A..B", "is not a C# namespace")]
    [InlineData("--package-version", "1.0\"/><X", "is not a NuGet version")]
    public void Names_that_would_break_the_generated_code_are_refused(string option, string value, string expected)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.zip"), "x");
        var (code, _, stderr) = CliTests.Effnet("codegen", "--model", dir.File("model.zip"), "--out", dir.File("Gen"), option, value);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.False(Directory.Exists(dir.File("Gen")));
    }

    [Fact]
    public void A_file_that_is_not_an_image_classifier_is_bad_data_named_in_one_line()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.zip"), "not a zip");
        var (code, _, stderr) = CliTests.Effnet("codegen", "--model", dir.File("model.zip"), "--out", dir.File("Gen"));
        Assert.Equal(3, code);
        Assert.Contains(dir.File("model.zip"), stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    // Mutation: CSharpText.Literal appends '"' unescaped -> the literal ends early -> fails.
    // Mutation: CSharpText.Literal passes characters outside printable ASCII through -> a line break ends the line -> fails.
    [Theory]
    [InlineData("cat")]
    [InlineData("a\"; System.Environment.Exit(1); //")]
    [InlineData("back\\slash\\")]
    [InlineData("line\nbreak\r\u2028\u0085end")]
    [InlineData("caf\u00e9 \U0001F431 {0}")]
    public void Labels_become_literals_that_hold_them_exactly_and_nothing_else(string label)
    {
        var literal = CSharpText.Literal(label);
        Assert.StartsWith("\"", literal);
        Assert.EndsWith("\"", literal);
        Assert.All(literal, c => Assert.InRange(c, ' ', '~'));
        Assert.Equal(label, Unescape(literal[1..^1]));
    }

    [Theory]
    [InlineData("Gen", "Gen")]
    [InlineData("my-photos.model", "myphotos.model")]
    [InlineData("2024", "_2024")]
    [InlineData("class", "classModel")]
    [InlineData("---", "ImageClassification")]
    public void The_default_namespace_is_made_from_the_folder_name(string folder, string expected)
    {
        Assert.Equal(expected, CSharpText.NamespaceFrom(folder));
        Assert.Null(CSharpText.NamespaceProblem(expected));
    }

    // The body of a regular C# literal as CSharpText writes it: \" \\ and \uXXXX, and any other backslash is an error.
    private static string Unescape(string body)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < body.Length; i++)
        {
            if (body[i] == '"') throw new Xunit.Sdk.XunitException($"unescaped quote at {i} in {body}");
            if (body[i] != '\\') { sb.Append(body[i]); continue; }
            var next = body[++i];
            if (next is '"' or '\\') sb.Append(next);
            else if (next == 'u') { sb.Append((char)int.Parse(body.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; }
            else throw new Xunit.Sdk.XunitException($"unexpected escape \\{next} in {body}");
        }
        return sb.ToString();
    }
}
