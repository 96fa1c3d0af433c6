using System.Text;

namespace Gateway.Workbench;

/// <summary>
/// The platform's script in the editor's page: it shows why the platform ended the editor's connection (the
/// workspace was stopped, its editor went away) the moment the close frame arrives, where VS Code alone
/// retries silently for half a minute. The script is the gateway's, served under a path of the workspace's
/// address that code-server does not use, so the page's own Content-Security-Policy (<c>script-src 'self'</c>)
/// lets it run.
/// </summary>
internal static class WorkbenchNotice
{
    /// <summary>Where the script is, relative to the editor's root.</summary>
    public const string ScriptPath = "/_cloud-ide/workbench-notice.js";

    // Relative, so one tag serves both addresses: the document is the editor's root, /ws/<sid>/ or /.
    private static readonly byte[] ScriptTag = Encoding.ASCII.GetBytes($"<script src=\"{ScriptPath[1..]}\"></script>");

    private static readonly byte[] Script = ReadScript();

    /// <summary>The workbench itself: a browser's GET of the editor's root (VS Code puts the folder in the query).</summary>
    public static bool IsDocument(HttpRequest request, ReadOnlySpan<char> editorPath) =>
        editorPath is "/"
        && HttpMethods.IsGet(request.Method)
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    public static bool IsScript(ReadOnlySpan<char> editorPath) => editorPath.SequenceEqual(ScriptPath);

    public static Task ServeScriptAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/javascript; charset=utf-8";
        response.ContentLength = Script.Length;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(Script).AsTask();
    }

    /// <summary>Whether the workspace's answer is a page the script can go into (HTML, not compressed).</summary>
    public static bool CanInject(HttpResponseMessage response) =>
        response.StatusCode == System.Net.HttpStatusCode.OK
        && response.Content.Headers.ContentType?.MediaType == "text/html"
        && response.Content.Headers.ContentEncoding.Count == 0;

    /// <summary>
    /// <paramref name="page"/> with the script's tag right after its head's start tag (at its start without one),
    /// telling the script <paramref name="workspaceName"/> when known.
    /// </summary>
    public static byte[] Inject(ReadOnlySpan<byte> page, string? workspaceName = null)
    {
        var tag = workspaceName is null
            ? ScriptTag
            : Encoding.UTF8.GetBytes($"<script src=\"{ScriptPath[1..]}\" data-workspace-name=\"{System.Net.WebUtility.HtmlEncode(workspaceName)}\"></script>");
        var at = 0;
        var head = IndexOfIgnoreCase(page, "<head"u8);
        if (head >= 0 && page[head..].IndexOf((byte)'>') is var end and >= 0)
        {
            at = head + end + 1;
        }

        var result = new byte[page.Length + tag.Length];
        page[..at].CopyTo(result);
        tag.CopyTo(result.AsSpan(at));
        page[at..].CopyTo(result.AsSpan(at + tag.Length));
        return result;
    }

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> value)
    {
        for (var i = 0; i + value.Length <= text.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(text.Slice(i, value.Length), value))
            {
                return i;
            }
        }

        return -1;
    }

    private static byte[] ReadScript()
    {
        using var stream = typeof(WorkbenchNotice).Assembly.GetManifestResourceStream("Gateway.Workbench.workbench-notice.js")
            ?? throw new InvalidOperationException("the workbench notice script is not embedded in the gateway");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
