# The platform's images, built from the repository root:
#   docker build -t workspace-gateway .                      (the default, last stage)
#   docker build --target operator -t workspace-operator .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY config/ config/
COPY src/Gateway/ src/Gateway/
COPY src/Operator/ src/Operator/
RUN dotnet publish src/Gateway -c Release -o /app/gateway \
 && dotnet publish src/Operator -c Release -o /app/operator

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS operator
WORKDIR /app
COPY --from=build /app/operator ./
# operator.json ships beside the binary; in Kubernetes a ConfigMap replaces it (deploy/operator.yaml).
ENV Urls=http://+:8080 \
    OPERATOR_CONFIG=/app/operator.json \
    Operator__Driver=Kubernetes
EXPOSE 8080
USER app
ENTRYPOINT ["dotnet", "Operator.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS gateway
WORKDIR /app
COPY --from=build /app/gateway ./
# gateway.json ships beside the binary; in Kubernetes a ConfigMap replaces it (deploy/gateway.yaml).
# What the runtime needs on one CPU (a short tier-up delay) is in Gateway.runtimeconfig.json.
ENV ASPNETCORE_URLS=http://+:8080 \
    GATEWAY_CONFIG=/app/gateway.json
EXPOSE 8080
USER app
ENTRYPOINT ["dotnet", "Gateway.dll"]
