using Gateway.Auth;
using Gateway.Tls;
using Gateway.Workbench;

namespace Gateway.Forwarding;

/// <summary>The request transformer for each way a workspace is addressed: by path under the gateway's origin, or by its own host name.</summary>
internal sealed class WorkspaceTransformers(AccessTokens tokens, WorkspaceAccessGate gate, TrustedProxies proxies, TunnelRelay relay, StrictTransportSecurity hsts)
{
    public WorkspaceRequestTransformer ByPath { get; } = new(tokens, gate, proxies, relay, hsts, ownOrigin: false);

    public WorkspaceRequestTransformer OnOwnOrigin { get; } = new(tokens, gate, proxies, relay, hsts, ownOrigin: true);

    /// <summary>The editor's page by path, with the platform's notice in it.</summary>
    public WorkbenchDocumentTransformer WorkbenchByPath => field ??= new(ByPath, gate, ownOrigin: false);

    /// <summary>The editor's page on its own origin, with the platform's notice in it.</summary>
    public WorkbenchDocumentTransformer WorkbenchOnOwnOrigin => field ??= new(OnOwnOrigin, gate, ownOrigin: true);
}
