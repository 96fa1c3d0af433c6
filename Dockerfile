# The platform's three images, built from the repository root (docs/kubernetes.md, "Images"):
#   docker build --target gateway  -t workspace-gateway:dev .
#   docker build --target operator -t workspace-operator:dev .
#   docker build --target webapi   -t workspace-webapi:dev .
# Each runs as the base image's non-root user, by its number ($APP_UID, 1654): Kubernetes can only check
# runAsNonRoot against a numeric user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY config/ config/
COPY src/Contracts/ src/Contracts/
COPY src/ServiceDefaults/ src/ServiceDefaults/
COPY src/Gateway/ src/Gateway/
COPY src/Operator/ src/Operator/
COPY src/WebApi/ src/WebApi/
RUN dotnet publish src/Gateway -c Release -o /app/gateway \
 && dotnet publish src/Operator -c Release -o /app/operator \
 && dotnet publish src/WebApi -c Release -o /app/webapi

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS operator
WORKDIR /app
COPY --from=build /app/operator ./
# operator.json ships beside the binary; in Kubernetes a ConfigMap replaces it (deploy/base/operator.yaml).
ENV Urls=http://+:8080 \
    OPERATOR_CONFIG=/app/operator.json \
    Operator__Driver=Kubernetes
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "Operator.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS webapi
WORKDIR /app
COPY --from=build /app/webapi ./
# webapi.json and catalog.json ship beside the binary, the page under wwwroot/; in Kubernetes a ConfigMap
# replaces the settings (deploy/base/webapi.yaml). The data folder (SQLite, when used) is /tmp/webapi: the
# root file system stays read-only.
ENV Urls=http://+:8080 \
    WEBAPI_CONFIG=/app/webapi.json \
    WebApi__CatalogFile=/app/catalog.json \
    WebApi__DataDirectory=/tmp/webapi
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "WebApi.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS gateway
WORKDIR /app
COPY --from=build /app/gateway ./
# gateway.json ships beside the binary; in Kubernetes a ConfigMap replaces it (deploy/base/gateway.yaml).
# What the runtime needs on one CPU (a short tier-up delay) is in Gateway.runtimeconfig.json.
# Plain HTTP on 8080 unless told more; HTTPS on 8443 once Gateway__Endpoints__Https and a certificate are set
# (deploy/base/gateway.yaml does).
ENV Gateway__Endpoints__Http=*:8080 \
    ASPNETCORE_HTTP_PORTS= \
    GATEWAY_CONFIG=/app/gateway.json
EXPOSE 8080 8443
USER $APP_UID
ENTRYPOINT ["dotnet", "Gateway.dll"]
