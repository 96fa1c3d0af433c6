using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServiceDefaults.Health;
using WebApi.Accounts;
using WebApi.Catalog;
using WebApi.Configuration;
using WebApi.Data;
using WebApi.Mail;
using WebApi.Orchestration;
using WebApi.Tickets;
using WebApi.Workspaces;

namespace WebApi;

public static class WebApiServiceCollectionExtensions
{
    public static IServiceCollection AddWebApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebApiOptions>().BindConfiguration(WebApiOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebApiOptions>, WebApiOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.AddOpenApi();

        var options = configuration.GetSection(WebApiOptions.SectionName).Get<WebApiOptions>() ?? new WebApiOptions();
        var database = options.Database;
        if (database.Provider == DatabaseProvider.Postgres)
        {
            services.AddDbContext<PostgresWebApiDb>(db => db.UseNpgsql(database.ConnectionString));
            services.AddScoped<WebApiDb>(sp => sp.GetRequiredService<PostgresWebApiDb>());
        }
        else
        {
            // A busy database waits for its turn instead of failing at once (concurrent writers).
            services.AddDbContext<SqliteWebApiDb>(db => db.UseSqlite(database.ConnectionString, sqlite => sqlite.CommandTimeout(30)));
            services.AddScoped<WebApiDb>(sp => sp.GetRequiredService<SqliteWebApiDb>());
        }

        services.AddHostedService<DatabasePreparation>();

        // Ready while the database answers: without it no request but the page's files can be served.
        services.AddHealthChecks().AddDbContextCheck<WebApiDb>("database", tags: PlatformEndpoints.Readiness);
        services.AddHostedService<IdleStopper>();
        services.AddSingleton<WorkspaceActivity>();
        services.AddSingleton<OperatorStatus>();
        services.AddHostedService<OperatorStatusFollower>();
        services.AddSingleton<WorkspaceViews>();
        services.AddScoped<WorkspaceLifecycle>();

        // The keys that protect session cookies live in the database: sessions survive a restart, and every
        // replica behind the gateway reads a cookie another one issued.
        services.AddDataProtection().PersistKeysToDbContext<WebApiDb>();
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
        {
            cookie.Cookie.Name = options.Accounts.CookieName;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = options.Accounts.SessionLifetime;
            cookie.SlidingExpiration = true;

            // An API answers 401/403; it does not redirect to a login page.
            cookie.Events.OnRedirectToLogin = context => Challenge(context.Response, StatusCodes.Status401Unauthorized, "Log in first.");
            cookie.Events.OnRedirectToAccessDenied = context => Challenge(context.Response, StatusCodes.Status403Forbidden, "Not allowed.");
            cookie.Events.OnValidatePrincipal = AccountSessions.ValidateAsync;
        }).AddSingleSignOn(options.Sso, options.PublicUrl);
        services.AddAuthorization();

        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddSingleton(_ => PasswordRules.Load());
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<AccountCodes>();
        services.AddSingleton<AccountMails>();
        services.AddSingleton<MailOutbox>();
        services.AddSingleton<SmtpSender>();
        services.AddHostedService<MailDelivery>();
        services.AddAccountMailLimits(options.Accounts.MailRequestsPerAddressPerMinute);
        services.AddSingleton<CatalogSeeder>();
        services.AddSingleton<TicketIssuer>();
        services.AddHttpClient<OperatorClient>((sp, http) =>
        {
            var operatorOptions = sp.GetRequiredService<IOptions<WebApiOptions>>().Value.Operator;
            http.BaseAddress = new Uri(operatorOptions.Url);
            http.Timeout = operatorOptions.StartTimeout + TimeSpan.FromSeconds(30);
        });
        return services;
    }

    public static IEndpointRouteBuilder MapWebApi(this IEndpointRouteBuilder app)
    {
        app.MapPlatformEndpoints();

        // The API's description for clients and the page: /openapi/v1.json.
        app.MapOpenApi();
        app.MapAccounts();
        app.MapCatalog();
        app.MapWorkspaces();
        app.MapTickets();
        return app;
    }

    private static Task Challenge(HttpResponse response, int status, string detail)
    {
        response.StatusCode = status;
        return response.WriteAsJsonAsync(
            new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = status, Title = status == 401 ? "unauthenticated" : "forbidden", Detail = detail },
            options: null,
            contentType: "application/problem+json");
    }
}
