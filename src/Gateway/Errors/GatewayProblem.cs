namespace Gateway.Errors;

/// <summary>An error the gateway itself answers, with the words a user sees.</summary>
internal sealed record GatewayProblem(int Status, string Code, string Title, string Detail)
{
    public static GatewayProblem InvalidSid { get; } = new(
        StatusCodes.Status400BadRequest, "invalid_workspace_id", "Invalid workspace id",
        "The workspace id in the address is empty, too long, or contains characters that are not allowed.");

    public static GatewayProblem InvalidPort { get; } = new(
        StatusCodes.Status400BadRequest, "invalid_port", "Invalid port",
        "The port after /proxy/ or /absproxy/ must be a number from 1 to 65535.");

    public static GatewayProblem InvalidHost { get; } = new(
        StatusCodes.Status400BadRequest, "invalid_host", "Invalid workspace address",
        "The host name is not a workspace address: <id>.<domain> or <port>--<id>.<domain>, lower case, with the usual port.");

    public static GatewayProblem InvalidTarget { get; } = new(
        StatusCodes.Status400BadRequest, "invalid_request_target", "Invalid address",
        "The address contains control characters or a fragment, which no browser sends.");

    public static GatewayProblem InvalidFraming { get; } = new(
        StatusCodes.Status400BadRequest, "invalid_message_framing", "Invalid request framing",
        "An HTTP/1.0 request cannot use Transfer-Encoding (RFC 9112 §6.1).");

    public static GatewayProblem AuthenticationRequired { get; } = new(
        StatusCodes.Status401Unauthorized, "authentication_required", "Sign-in required",
        "Open this workspace from the dashboard to get access to it.");

    public static GatewayProblem CredentialInvalid { get; } = new(
        StatusCodes.Status401Unauthorized, "credential_invalid", "Access invalid or expired",
        "Your access to this workspace is invalid or has expired. Open it again from the dashboard.");

    public static GatewayProblem WorkspaceForbidden { get; } = new(
        StatusCodes.Status403Forbidden, "workspace_forbidden", "Not your workspace",
        "This workspace belongs to another account.");

    public static GatewayProblem RequestTooLarge { get; } = new(
        StatusCodes.Status413PayloadTooLarge, "request_too_large", "Request too large",
        "The request body is larger than this gateway accepts.");

    public static GatewayProblem WorkspaceNotRunning { get; } = new(
        StatusCodes.Status404NotFound, "workspace_not_running", "Workspace not running",
        "This workspace is not running. Start it from the dashboard and open it again.");

    public static GatewayProblem NoRoute { get; } = new(
        StatusCodes.Status404NotFound, "not_found", "Not found",
        "Nothing is served at this address. Workspaces live under /ws/<id>/.");

    public static GatewayProblem UnknownHost { get; } = new(
        StatusCodes.Status421MisdirectedRequest, "unknown_host", "Unknown address",
        "This server does not serve the platform under this name. Open it at the address you were given.");

    public static GatewayProblem RouteInvalid { get; } = new(
        StatusCodes.Status502BadGateway, "workspace_route_invalid", "Workspace address invalid",
        "The platform holds an unusable address for this workspace. Restarting the workspace usually fixes this.");

    public static GatewayProblem RouteStoreUnavailable { get; } = new(
        StatusCodes.Status503ServiceUnavailable, "route_store_unavailable", "Temporarily unavailable",
        "The gateway cannot look up this workspace right now. Try again in a few seconds.");

    public static GatewayProblem ShuttingDown { get; } = new(
        StatusCodes.Status503ServiceUnavailable, "gateway_stopping", "Gateway restarting",
        "This gateway is shutting down and opens no new connections to workspaces. Try again in a few seconds.");

    public static GatewayProblem WorkspaceUnreachable { get; } = new(
        StatusCodes.Status502BadGateway, "workspace_unreachable", "Workspace unreachable",
        "The workspace did not accept the connection. It may be starting, stopping, or have crashed.");

    public static GatewayProblem WorkspaceUpgradeInvalid { get; } = new(
        StatusCodes.Status502BadGateway, "workspace_upgrade_invalid", "Workspace answered wrongly",
        "The workspace accepted the WebSocket with an invalid handshake.");

    public static GatewayProblem UnsupportedConnect { get; } = new(
        StatusCodes.Status400BadRequest, "unsupported_connect", "Tunnel not offered",
        "Only WebSockets may use CONNECT here (RFC 8441: :protocol websocket). The gateway is no forward proxy.");

    public static GatewayProblem WorkspaceTimeout { get; } = new(
        StatusCodes.Status504GatewayTimeout, "workspace_timeout", "Workspace timed out",
        "The workspace did not answer in time.");
}
