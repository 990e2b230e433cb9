using Microsoft.Data.Sqlite;

namespace EffNet.MLNet.Training;

/// <summary>
/// Features already computed, keyed by the image's content hash and by everything that computed
/// them (<see cref="EfficientNetFeaturizerTransformer.FeatureIdentity"/>): retraining after adding
/// images, or training several trainers, featurizes each image once.
/// </summary>
/// <remarks>
/// The store is one SQLite database, <c>EFFNET_HOME/features/features.v1.sqlite</c>, in
/// write-ahead-log mode: a crash at any byte loses at most the last uncommitted batch, several
/// processes read and write it at once (a writer waits for another's short transaction), and a
/// lookup reads one record, never the whole store. Every record carries a checksum over the
/// featurizer's identity, the content hash and the vector, checked on every read, so a damaged
/// record is a miss, never a wrong vector; a store SQLite reports as damaged is deleted and
/// started afresh. Files of the earlier append-only format beside it are ignored.
/// A cache is never a reason for a job to fail: a store that cannot be used (a read-only or
/// immutable file, a folder in its place, another program's database) gives one warning and the
/// cache then holds and keeps nothing; a write that fails is retried briefly when the failure is
/// transient (busy, locked, an I/O error) and otherwise skipped with one warning, the features
/// staying in the caller's hands either way.
/// An instance is thread-safe; dispose it to close the database.
/// </remarks>
public sealed class FeatureCache : IDisposable
{
    /// <summary>The database's file name under the root.</summary>
    public const string FileName = "features.v1.sqlite";

    private const int HashBytes = 32;
    private static readonly int[] RetryDelaysMs = [50, 200, 500];
    private readonly object _gate = new();
    private readonly Action<string>? _warn;
    private readonly FeatureChecksum _checksum;
    // Null once the store is found unusable: the cache then holds and keeps nothing for this run.
    private FeatureDatabase? _database;
    private bool _warnedChecksum;
    private bool _warnedRead;
    private bool _warnedWrite;
    private bool _writesStopped;

    /// <summary>
    /// Open (or create) the store under <paramref name="root"/> and the part of it that holds
    /// features of <paramref name="featureIdentity"/>.
    /// </summary>
    /// <param name="root">Folder of the database (created if missing); usually <see cref="DefaultRoot"/>.</param>
    /// <param name="featureIdentity">What computed the features: <see cref="EfficientNetFeaturizerTransformer.FeatureIdentity"/>.</param>
    /// <param name="dimension">Length of every vector.</param>
    /// <param name="warn">Told, in one line, when damaged records or a damaged store were discarded.</param>
    public FeatureCache(string root, string featureIdentity, int dimension, Action<string>? warn = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentException.ThrowIfNullOrEmpty(featureIdentity);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Identity = featureIdentity;
        Dimension = dimension;
        StorePath = Path.Combine(root, FileName);
        _warn = warn;
        _checksum = new FeatureChecksum(featureIdentity, dimension);
        try
        {
            Directory.CreateDirectory(root);
            _database = FeatureDatabase.OpenOrRecreate(StorePath, featureIdentity, dimension, warn);
        }
        catch (Exception e) when (IsStoreFault(e))
        {
            Unusable(e);
        }
    }

    /// <summary>The default root: <c>EFFNET_HOME/features</c>.</summary>
    public static string DefaultRoot => Path.Combine(Catalog.PretrainedCatalog.CacheDirectoryFromEnvironment(), "features");

    /// <summary>What the stored features were computed by (see <see cref="EfficientNetFeaturizerTransformer.FeatureIdentity"/>).</summary>
    public string Identity { get; }

    /// <summary>Length of every vector.</summary>
    public int Dimension { get; }

    /// <summary>The database file.</summary>
    public string StorePath { get; }

    /// <summary>Vectors held for this identity (counted in the database).</summary>
    public int Count
    {
        get
        {
            lock (_gate) return Guarded(db => db.Count(), 0);
        }
    }

    /// <summary>SHA-256 of a file's content, as lower-case hex.</summary>
    public static string ContentHash(string path) => FileHash.Sha256(path);

    // Null for what cannot be hashed without harm (a FIFO, a device) or at all (missing, unreadable):
    // such an image is featurized, where it is named as bad, and never cached.
    internal static string? TryContentHash(string path)
    {
        if (FileKind.NotRegular(path) is not null) return null;
        try { return ContentHash(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The cached vector for a content hash, if there is one whose checksum holds.</summary>
    public bool TryGet(string contentHash, out float[] features)
    {
        var key = HashKey(contentHash);
        byte[]? vector = null, checksum = null;
        lock (_gate)
        {
            if (!Guarded(db => db.TryRead(key, out vector, out checksum), false))
            {
                features = [];
                return false;
            }
        }
        if (vector!.Length != Dimension * sizeof(float) || !_checksum.Matches(key, vector, checksum!))
        {
            lock (_gate)
            {
                DiscardedRecords++;
                if (!_warnedChecksum) _warn?.Invoke($"The feature cache '{StorePath}' holds records that fail their checksum; they are ignored and computed again.");
                _warnedChecksum = true;
            }
            features = [];
            return false;
        }
        features = new float[Dimension];
        Buffer.BlockCopy(vector, 0, features, 0, vector.Length);
        return true;
    }

    /// <summary>Records found damaged (and ignored) by <see cref="TryGet"/>.</summary>
    public int DiscardedRecords { get; private set; }

    /// <summary>Store vectors, in one transaction: after a crash either all of them are there or none.</summary>
    /// <exception cref="ArgumentException">A vector's length is not <see cref="Dimension"/>, or a hash is not 64 hex digits.</exception>
    public void AddRange(IEnumerable<(string ContentHash, float[] Features)> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var records = new List<(byte[] Key, byte[] Vector, byte[] Checksum)>();
        foreach (var (hash, features) in items)
        {
            if (features.Length != Dimension)
                throw new ArgumentException($"A vector of {features.Length} values cannot go into a feature cache of {Dimension}-value vectors.", nameof(items));
            var key = HashKey(hash);
            var bytes = new byte[features.Length * sizeof(float)];
            Buffer.BlockCopy(features, 0, bytes, 0, bytes.Length);
            records.Add((key, bytes, _checksum.Compute(key, bytes)));
        }
        if (records.Count == 0) return;
        lock (_gate)
        {
            var recreated = false;
            for (var attempt = 0; _database is not null && !_writesStopped; attempt++)
            {
                try
                {
                    BeforeWrite?.Invoke();
                    _database.Write(records);
                    return;
                }
                catch (SqliteException e) when (FeatureDatabase.IsDamage(e) && !recreated)
                {
                    recreated = true;
                    Recreate(e);
                }
                catch (Exception e) when (IsStoreFault(e))
                {
                    if (IsTransient(e) && attempt < RetryDelaysMs.Length)
                    {
                        Thread.Sleep(RetryDelaysMs[attempt]);
                        continue;
                    }
                    // Busy or failing for longer than the retries: skip this batch, try the next. Anything else
                    // (read-only, full, no permission) will not pass by itself, so writes stop for this run.
                    _writesStopped = !IsTransient(e);
                    if (!_warnedWrite)
                        _warn?.Invoke($"Could not write to the feature cache '{StorePath}' ({Describe(e)}); the features are used but not cached{(_writesStopped ? ", and no more writes are tried this run" : "")}.");
                    _warnedWrite = true;
                    return;
                }
            }
        }
    }

    /// <summary>False once the store was found unusable and the cache holds and keeps nothing.</summary>
    internal bool IsUsable
    {
        get
        {
            lock (_gate) return _database is not null;
        }
    }

    /// <summary>Called before each write attempt; a test makes writes fail here.</summary>
    internal Action? BeforeWrite { get; set; }

    /// <summary>Close the database.</summary>
    public void Dispose()
    {
        lock (_gate) _database?.Dispose();
    }

    // Reads treat a damaged store as empty (it is replaced) and a failing one as a miss: the caller computes the features again.
    private T Guarded<T>(Func<FeatureDatabase, T> read, T miss)
    {
        if (_database is null) return miss;
        try { return read(_database); }
        catch (SqliteException e) when (FeatureDatabase.IsDamage(e))
        {
            Recreate(e);
            return miss;
        }
        catch (Exception e) when (IsStoreFault(e))
        {
            if (!_warnedRead) _warn?.Invoke($"Could not read from the feature cache '{StorePath}' ({Describe(e)}); the features are computed instead.");
            _warnedRead = true;
            return miss;
        }
    }

    private void Recreate(SqliteException damage)
    {
        _database?.Dispose();
        _database = null;
        try { _database = FeatureDatabase.Recreate(StorePath, Identity, Dimension, damage, _warn); }
        catch (Exception e) when (IsStoreFault(e)) { Unusable(e); }
    }

    private void Unusable(Exception e) =>
        _warn?.Invoke($"The feature cache '{StorePath}' cannot be used ({Describe(e)}); this run goes on without it, computing every feature.");

    private static bool IsStoreFault(Exception e) => e is SqliteException or IOException or UnauthorizedAccessException;

    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR: another writer or a passing I/O fault; worth a short retry.
    private static bool IsTransient(Exception e) => e is SqliteException { SqliteErrorCode: var code } && (code & 0xFF) is 5 or 6 or 10;

    private static string Describe(Exception e) => e is SqliteException s ? $"SQLite error {s.SqliteErrorCode}: {s.Message.Split('\n')[0]}" : e.Message;

    private static byte[] HashKey(string contentHash)
    {
        if (contentHash is not { Length: HashBytes * 2 } || !contentHash.All(Uri.IsHexDigit))
            throw new ArgumentException($"'{contentHash}' is not a SHA-256 content hash (64 hex digits).", nameof(contentHash));
        return Convert.FromHexString(contentHash);
    }
}
