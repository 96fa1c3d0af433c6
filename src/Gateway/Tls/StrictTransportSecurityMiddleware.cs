namespace Gateway.Tls;

/// <summary>Sets the gateway's HSTS header before anything else answers; registered only while HSTS is on.</summary>
internal sealed class StrictTransportSecurityMiddleware(RequestDelegate next, StrictTransportSecurity hsts)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.IsHttps)
        {
            context.Response.Headers.StrictTransportSecurity = hsts.Value;
        }

        return next(context);
    }
}
