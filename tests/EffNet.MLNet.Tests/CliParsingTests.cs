using EffNet.MLNet.Cli;
using EffNet.MLNet.Cli.Commands;

namespace EffNet.MLNet.Tests;

/// <summary>A strict command line: unknown names fail with exit 2 and the closest valid one; one seed vocabulary.</summary>
public class CliParsingTests
{
    private static string Flat(string s) => string.Join(' ', s.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));

    [Theory]
    [InlineData("describe --jsn", "Unknown option 'jsn'. Did you mean --json?")]
    [InlineData("predict --model m.zip x.jpg --topp 1", "Unknown option 'topp'. Did you mean --top?")]
    [InlineData("train --data sample-data --gradient-clipping 5", "Unknown option 'gradient-clipping'. See effnet train --help.")]
    [InlineData("train --valid 0.3", "Did you mean --validation-fraction?")]
    [InlineData("export --random-init --out x.onnx --weight-seed 3", "Did you mean --weights-seed?")]
    [InlineData("descrbe b0", "Unknown command 'descrbe'. Did you mean 'describe'?")]
    [InlineData("featurise --data x", "Did you mean 'featurize'?")]
    public void Unknown_options_and_commands_fail_with_exit_2_and_the_closest_name(string args, string expected)
    {
        var (code, stdout, stderr) = CliTests.Effnet(args.Split(' '));
        Assert.Equal(2, code);
        Assert.Contains(expected, Flat(stderr));
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal("", stdout.Trim());   // describe --jsn used to print the tables
    }

    [Fact]
    public void Suggestions_come_from_each_command_s_own_options()
    {
        Assert.Contains("--top", NameSuggestions.OptionNames(typeof(PredictCommand.Settings)));
        Assert.Contains("--on-bad-image", NameSuggestions.OptionNames(typeof(TrainCommand.Settings)));   // inherited
        Assert.Contains("--init-seed", NameSuggestions.OptionNames(typeof(TrainCommand.Settings)));      // the old spelling
        Assert.Equal("--top", NameSuggestions.Closest("--topp", NameSuggestions.OptionNames(typeof(PredictCommand.Settings))));
        Assert.Null(NameSuggestions.Closest("--gradient-clipping", NameSuggestions.OptionNames(typeof(TrainCommand.Settings))));
        Assert.Equal(1, NameSuggestions.Distance("--jsno", "--json"));
        Assert.Equal(2, NameSuggestions.Distance("abc", "a"));
    }

    [Fact]
    public void Every_command_is_listed_for_suggestions()
    {
        var (_, stdout, _) = CliTests.Effnet("--help");
        foreach (var command in EffNetApp.SettingsByCommand.Keys)
            Assert.Contains(command, stdout);
        var listed = stdout.Split('\n').SkipWhile(l => !l.Contains("COMMANDS:")).Skip(1)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^ {1,6}([a-z]+)[ <]")).Where(m => m.Success)
            .Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(listed.Order(), EffNetApp.SettingsByCommand.Keys.Order());
    }

    [Fact]
    public void Weights_seed_is_one_name_everywhere_and_the_old_spellings_still_work()
    {
        using var dir = new TempDir();
        string Export(string option, string seed)
        {
            var output = dir.File($"{option.TrimStart('-')}-{seed}.onnx");
            var (code, _, stderr) = CliTests.Effnet("export", "--variant", "b0", "--random-init", option, seed, "--resolution", "64", "--out", output);
            Assert.True(code == 0, stderr);
            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(output)));
        }
        var canonical = Export("--weights-seed", "3");
        Assert.Equal(canonical, Export("--seed", "3"));
        Assert.NotEqual(canonical, Export("--weights-seed", "4"));

        // train and featurize take the same name, and --init-seed as before: parsing reaches the --data check.
        foreach (var command in new[] { "train", "featurize" })
            foreach (var option in new[] { "--weights-seed", "--init-seed" })
            {
                var (code, _, stderr) = CliTests.Effnet(command, "--random-init", option, "3", "--data", dir.File("absent"), "--out", dir.File("o.csv"));
                Assert.Equal(2, code);
                Assert.Contains("neither a folder nor a manifest", Flat(stderr));
            }
    }

    [Fact]
    public void Version_prints_the_package_version()
    {
        var (code, stdout, _) = CliTests.Effnet("--version");
        Assert.Equal(0, code);
        var csproj = File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "EffNet.MLNet.Cli", "EffNet.MLNet.Cli.csproj"));
        var version = System.Text.RegularExpressions.Regex.Match(csproj, "<Version>(.*)</Version>").Groups[1].Value;
        Assert.Matches("^" + System.Text.RegularExpressions.Regex.Escape(version) + @"(-[0-9A-Za-z.]+)?$", stdout.Trim());
    }
}
