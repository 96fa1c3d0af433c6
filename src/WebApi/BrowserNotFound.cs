using Microsoft.AspNetCore.Diagnostics;

namespace WebApi;

/// <summary>
/// Answers that carry no body of their own (an address nothing serves): a page for a browser's navigation, a
/// problem (RFC 9457) for everything else. A browser shown problem JSON for a mistyped address learns nothing.
/// </summary>
internal static class BrowserNotFound
{
    public static async Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var request = http.Request;
        if (http.Response.StatusCode == StatusCodes.Status404NotFound && HttpMethods.IsGet(request.Method) && IsNavigation(request)
            && http.RequestServices.GetRequiredService<IWebHostEnvironment>().WebRootFileProvider.GetFileInfo("not-found.html") is { Exists: true } page)
        {
            http.Response.ContentType = "text/html; charset=utf-8";
            http.Response.Headers.CacheControl = "no-store";
            await http.Response.SendFileAsync(page);
            return;
        }

        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = { Status = http.Response.StatusCode } }))
        {
            await http.Response.WriteAsync($"Status code {http.Response.StatusCode}");
        }
    }

    // What a browser sends when the user opens an address; fetch() and scripts send neither.
    private static bool IsNavigation(HttpRequest request) =>
        request.Headers["Sec-Fetch-Mode"] == "navigate"
        || request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
}
