using System.Globalization;
using Microsoft.Data.Sqlite;

namespace EffNet.MLNet.Training;

/// <summary>
/// The SQLite side of <see cref="FeatureCache"/>: one connection to the store, the part of it one
/// featurizer identity owns, and what to do when SQLite finds the file damaged.
/// </summary>
internal sealed class FeatureDatabase : IDisposable
{
    // A writer holds the lock for one short batch; waiting this long for it means something is stuck.
    private const int BusyTimeoutSeconds = 120;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS stores (
            id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL,
            dimension INTEGER NOT NULL,
            UNIQUE (identity, dimension));
        CREATE TABLE IF NOT EXISTS features (
            store INTEGER NOT NULL,
            hash BLOB NOT NULL,
            vector BLOB NOT NULL,
            checksum BLOB NOT NULL,
            PRIMARY KEY (store, hash));
        """;

    private readonly SqliteConnection _connection;
    private readonly long _store;
    private readonly SqliteCommand _read;

    private FeatureDatabase(string path, string identity, int dimension)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Without pooling, Dispose really closes the file (and checkpoints the write-ahead log).
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
        }.ToString());
        try
        {
            _connection.Open();
            Execute(string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000};"));
            CheckTables(path);
            // WAL: readers never block the writer and a crash mid-commit leaves the last commit intact.
            // synchronous=NORMAL in WAL mode survives any process crash; a power cut may drop the last commits, never corrupt.
            Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
            Execute(Schema);
            _store = StoreId(identity, dimension);
            _read = _connection.CreateCommand();
            _read.CommandText = "SELECT vector, checksum FROM features WHERE store = $store AND hash = $hash";
            _read.Parameters.AddWithValue("$store", _store);
            _read.Parameters.Add("$hash", SqliteType.Blob);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>Open the store, replacing it when SQLite finds it damaged.</summary>
    public static FeatureDatabase OpenOrRecreate(string path, string identity, int dimension, Action<string>? warn)
    {
        try { return Open(path, identity, dimension); }
        catch (SqliteException e) when (IsDamage(e)) { return Recreate(path, identity, dimension, e, warn); }
    }

    /// <summary>Delete a damaged store (and its log) and start an empty one.</summary>
    public static FeatureDatabase Recreate(string path, string identity, int dimension, SqliteException damage, Action<string>? warn)
    {
        warn?.Invoke($"The feature cache '{path}' is damaged ({damage.Message}); it was deleted and a new one started, so features will be computed again.");
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
        {
            // Another process may have replaced it first; its new store is then the one to use.
            try { File.Delete(file); }
            catch (IOException) { }
        }
        return Open(path, identity, dimension);
    }

    /// <summary>SQLite's verdict that the file is not a sound database (SQLITE_CORRUPT, SQLITE_NOTADB).</summary>
    public static bool IsDamage(SqliteException e) => (e.SqliteErrorCode & 0xFF) is 11 or 26;

    public bool TryRead(byte[] hash, out byte[]? vector, out byte[]? checksum)
    {
        _read.Parameters["$hash"].Value = hash;
        using var reader = _read.ExecuteReader();
        if (!reader.Read() || reader.IsDBNull(0) || reader.IsDBNull(1))
        {
            vector = checksum = null;
            return false;
        }
        vector = reader.GetFieldValue<byte[]>(0);
        checksum = reader.GetFieldValue<byte[]>(1);
        return true;
    }

    public int Count()
    {
        using var count = _connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM features WHERE store = $store";
        count.Parameters.AddWithValue("$store", _store);
        return Convert.ToInt32(count.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Insert or replace records in one transaction (BEGIN IMMEDIATE: waits for another writer rather than failing).</summary>
    public void Write(IReadOnlyList<(byte[] Key, byte[] Vector, byte[] Checksum)> records)
    {
        using var transaction = _connection.BeginTransaction(deferred: false);
        using var insert = _connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR REPLACE INTO features (store, hash, vector, checksum) VALUES ($store, $hash, $vector, $checksum)";
        insert.Parameters.AddWithValue("$store", _store);
        var hash = insert.Parameters.Add("$hash", SqliteType.Blob);
        var vector = insert.Parameters.Add("$vector", SqliteType.Blob);
        var checksum = insert.Parameters.Add("$checksum", SqliteType.Blob);
        foreach (var record in records)
        {
            hash.Value = record.Key;
            vector.Value = record.Vector;
            checksum.Value = record.Checksum;
            insert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    public void Dispose()
    {
        _read?.Dispose();
        _connection.Dispose();
    }

    private static FeatureDatabase Open(string path, string identity, int dimension)
    {
        if (Directory.Exists(path))
            throw new IOException($"The feature cache '{path}' is a folder, not a database file; move it away or set EFFNET_HOME to another folder.");
        return new FeatureDatabase(path, identity, dimension);
    }

    // A database with tables that are not ours (another program's file at our path, a future
    // format) is left as it is: switching it to WAL or adding tables would change someone's data.
    private void CheckTables(string path)
    {
        var expected = new Dictionary<string, string[]>
        {
            ["stores"] = ["id", "identity", "dimension"],
            ["features"] = ["store", "hash", "vector", "checksum"],
        };
        using var tables = _connection.CreateCommand();
        tables.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
        var names = new List<string>();
        using (var reader = tables.ExecuteReader())
            while (reader.Read()) names.Add(reader.GetString(0));
        foreach (var name in names)
        {
            if (!expected.TryGetValue(name, out var columns))
                throw new IOException($"The feature cache '{path}' holds a table '{name}' that a feature cache does not have (another program's database?); it was left as it is.");
            using var info = _connection.CreateCommand();
            info.CommandText = $"SELECT name FROM pragma_table_info('{name}') ORDER BY cid";
            var actual = new List<string>();
            using (var reader = info.ExecuteReader())
                while (reader.Read()) actual.Add(reader.GetString(0));
            if (!actual.SequenceEqual(columns))
                throw new IOException($"The feature cache '{path}' has a table '{name}' with columns ({string.Join(", ", actual)}), not ({string.Join(", ", columns)}); it was left as it is.");
        }
    }

    private long StoreId(string identity, int dimension)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT OR IGNORE INTO stores (identity, dimension) VALUES ($identity, $dimension);
            SELECT id FROM stores WHERE identity = $identity AND dimension = $dimension;
            """;
        command.Parameters.AddWithValue("$identity", identity);
        command.Parameters.AddWithValue("$dimension", dimension);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
