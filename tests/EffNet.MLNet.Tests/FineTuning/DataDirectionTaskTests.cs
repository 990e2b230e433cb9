using EffNet.MLNet.FineTuning.Data;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet.Tests.FineTuning;

public class DataDirectionTaskTests
{
    [Fact]
    public void The_task_writes_a_train_and_a_held_out_folder_of_pngs_per_direction_that_the_library_reads()
    {
        using var dir = new TempDir();
        var (train, heldOut) = DirectionTask.WriteSplits(dir.Path, trainPerClass: 3, heldOutPerClass: 2, size: 48, seed: 1);
        foreach (var (folder, count) in new[] { (train, 3), (heldOut, 2) })
        {
            Assert.Equal(["down", "left", "right", "up"], Directory.GetDirectories(folder).Select(p => Path.GetFileName(p)!).Order().ToArray());
            foreach (var name in DirectionTask.Classes)
            {
                var files = Directory.GetFiles(Path.Combine(folder, name), "*.png");
                Assert.Equal(count, files.Length);
                foreach (var file in files)
                {
                    using var image = OpenedImage.Open(file, ImageCheck.DefaultMaxPixels);
                    Assert.Equal((48, 48), (image.Codec.Info.Width, image.Codec.Info.Height));
                }
            }
        }
        // Held-out images come from another stream: none repeats a training image.
        var trainBytes = Directory.GetFiles(train, "*.png", SearchOption.AllDirectories).Select(File.ReadAllBytes).ToList();
        foreach (var file in Directory.GetFiles(heldOut, "*.png", SearchOption.AllDirectories))
            Assert.DoesNotContain(trainBytes, bytes => bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)));
    }

    // Mutation: DirectionTask.Draw keys its stream without the seed (SeededRandom.For(0, …)) -> fails.
    [Fact]
    public void Drawing_is_a_function_of_seed_split_class_and_index()
    {
        Assert.Equal(DirectionTask.Draw(32, 1, 5, 0, 3), DirectionTask.Draw(32, 1, 5, 0, 3));
        Assert.NotEqual(DirectionTask.Draw(32, 1, 5, 0, 3), DirectionTask.Draw(32, 1, 6, 0, 3));
        Assert.NotEqual(DirectionTask.Draw(32, 1, 5, 0, 3), DirectionTask.Draw(32, 1, 5, 1, 3));
        Assert.NotEqual(DirectionTask.Draw(32, 1, 5, 0, 3), DirectionTask.Draw(32, 1, 5, 0, 4));
    }

    // Only the arrow's direction carries the label: the classes' global colour statistics (what a probe of image-wide
    // features reads) agree, while the images themselves all differ.
    // Mutation: the background's red keyed to the class (background.R = (byte)(direction * 60)) -> fails (class means 16, 66, 121, 175).
    [Fact]
    public void Classes_differ_only_in_the_arrow_not_in_global_colour()
    {
        const int Size = 32, PerClass = 300;
        var means = new double[4][];
        var imageMeans = new List<double>[3] { [], [], [] };
        for (var direction = 0; direction < 4; direction++)
        {
            means[direction] = new double[3];
            for (var i = 0; i < PerClass; i++)
            {
                var rgba = DirectionTask.Draw(Size, direction, 2, 0, i);
                for (var c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (var p = 0; p < Size * Size; p++) sum += rgba[4 * p + c];
                    imageMeans[c].Add(sum / (Size * Size));
                    means[direction][c] += sum / (Size * Size) / PerClass;
                }
            }
        }
        // Each image's mean is mostly its random background colour (sd ~70 levels), so a class mean over 300 images
        // wanders by its standard error (~4 levels); the four class means must agree within five standard errors.
        for (var c = 0; c < 3; c++)
        {
            var all = imageMeans[c];
            var sd = Math.Sqrt(all.Sum(v => (v - all.Average()) * (v - all.Average())) / (all.Count - 1));
            var values = means.Select(m => m[c]).ToArray();
            Assert.True(values.Max() - values.Min() < 5 * sd / Math.Sqrt(PerClass),
                $"channel {c}: class means {string.Join(", ", values.Select(v => v.ToString("F1")))}, per-image sd {sd:F1}");
        }
    }
}
