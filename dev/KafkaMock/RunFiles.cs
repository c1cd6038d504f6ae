namespace FlashSale.KafkaMock;

/// <summary>The small files through which scripts and tests find this host.</summary>
internal static class RunFiles
{
    /// <summary>
    /// Writes <paramref name="content"/> without a trailing newline, so a reader can use the file as is,
    /// and through a rename, so a reader never sees it half written.
    /// </summary>
    public static void WriteAtomically(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Deletes the file unless another host has written its own content there since.</summary>
    public static void DeleteIfUnchanged(string path, string content)
    {
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == content)
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
            // Shutting down either way; a stale file is detected by its dead ports and control URL.
        }
    }
}
