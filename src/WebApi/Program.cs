using ServiceDefaults.Hosting;
using WebApi;

return await PlatformHosting.RunAsync(() => WebApiApplication.Create(args), "web API", WebApiApplication.ConfigFileVariable);
