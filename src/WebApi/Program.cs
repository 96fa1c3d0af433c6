using ServiceDefaults.Hosting;
using WebApi;

return await PlatformHosting.RunAsync(() => WebApiApplication.Create(args), WebApiApplication.Program);
