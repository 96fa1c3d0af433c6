using Microsoft.AspNetCore.Http.HttpResults;

namespace WebApi;

/// <summary>ProblemDetails answers: <c>title</c> is a stable code for the page, <c>detail</c> a sentence for the user.</summary>
internal static class Problems
{
    public static ProblemHttpResult Of(int status, string code, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: code);

    public static ProblemHttpResult Conflict(string code, string detail) => Of(StatusCodes.Status409Conflict, code, detail);

    public static ProblemHttpResult Unprocessable(string code, string detail) => Of(StatusCodes.Status422UnprocessableEntity, code, detail);

    public static ProblemHttpResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "not_found", detail);
}
