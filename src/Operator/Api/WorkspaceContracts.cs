using System.Text.RegularExpressions;
using Contracts.Routing;
using Contracts.Sharing;
using Contracts.Workspaces;
using Operator.Drivers.Kubernetes;
using Operator.Workspaces;

namespace Operator.Api;

/// <summary>The operator's side of <see cref="WorkspaceInfo"/>: a Workspace resource as the API shows it.</summary>
internal static class WorkspaceInfoMapping
{
    public static WorkspaceInfo ToInfo(this WorkspaceResource workspace)
    {
        var status = workspace.Status;
        var ready = status?.Condition(WorkspaceCondition.Ready);
        var spec = workspace.Spec;
        return new(
            workspace.Sid,
            spec.State.ToString(),
            workspace.Metadata.DeletionTimestamp is not null ? WorkspacePhase.Deleting : status?.Phase ?? WorkspacePhase.Pending,
            ready?.Status == "True",
            ready?.Reason,
            ready?.Message,
            status?.Address,
            status?.PodIP,
            status?.NodeName,
            status?.Port,
            spec.Owner,
            spec.Image,
            spec.Cpu,
            spec.Memory,
            spec.Storage,
            spec.Hardware,
            workspace.Metadata.CreationTimestamp is { } created ? new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) : null,
            [.. SharedPortSpec.SharesOf(spec.Ports).Entries.Select(e => new SharedPortInfo(e.Port, PortShares.Word(e.Sharing)))]);
    }
}

internal static partial class WorkspaceRequestRules
{
    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")]
    public static partial Regex Quantity();

    public static Dictionary<string, string[]> Validate(CreateWorkspaceRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(request.Sid) || !WorkspaceIds.DnsLabel().IsMatch(request.Sid))
        {
            errors["sid"] = ["required: lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit"];
        }

        if (string.IsNullOrWhiteSpace(request.Image))
        {
            errors["image"] = ["required: the workspace's container image"];
        }

        foreach (var (field, value) in new[] { ("cpu", request.Cpu), ("memory", request.Memory), ("storage", request.Storage) })
        {
            if (value is not null && !Quantity().IsMatch(value))
            {
                errors[field] = [$"'{value}' is not a Kubernetes quantity (e.g. 2, 500m, 4Gi)"];
            }
        }

        if (request.Port is { } port && !PortNumber.IsValid(port))
        {
            errors["port"] = ["must be between 1 and 65535"];
        }

        if (request.MountPath is not null && (!request.MountPath.StartsWith('/') || request.MountPath.Contains("..", StringComparison.Ordinal)))
        {
            errors["mountPath"] = ["must be an absolute path without '..'"];
        }

        return errors;
    }

    public static Dictionary<string, string[]> Validate(SetPortsRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var ports = request.Ports ?? [];
        if (ports.Count > PortShares.MaxPorts)
        {
            errors["ports"] = [$"at most {PortShares.MaxPorts} ports"];
        }

        for (var i = 0; i < ports.Count; i++)
        {
            if (!PortNumber.IsValid(ports[i].Port))
            {
                errors[$"ports[{i}].port"] = ["must be between 1 and 65535"];
            }

            if (!PortShares.TryParseLevel(ports[i].Sharing, out _))
            {
                errors[$"ports[{i}].sharing"] = ["must be private, authenticated or public"];
            }
        }

        if (ports.GroupBy(p => p.Port).Any(g => g.Count() > 1))
        {
            errors["ports"] = ["each port at most once"];
        }

        return errors;
    }
}
