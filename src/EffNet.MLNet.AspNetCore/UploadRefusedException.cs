namespace EffNet.MLNet.AspNetCore;

/// <summary>Why an upload was not read: the status to answer with, a title and a one-line detail.</summary>
internal sealed class UploadRefusedException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;
}
