-- The best configuration of the rival: a per-worker LRU cache of routes (1 s TTL, so a moved
-- workspace is seen within a second without pub/sub), pooled Redis connections for misses, and
-- pooled upstream keep-alive connections chosen by balancer_by_lua.
local lrucache = require "resty.lrucache"
local redis = require "nginx.redis"
local balancer = require "ngx.balancer"

local _M = {}

local ROUTE_TTL = 1
local MISSING_TTL = 1
local routes = assert(lrucache.new(100000))

local function lookup(sid)
    local red = redis:new()
    red:set_timeout(1000)
    local ok, err = red:connect(ngx.var.redis_host, tonumber(ngx.var.redis_port))
    if not ok then
        return nil, err
    end
    local address, err = red:hget("hosts", sid)
    if not address then
        return nil, err
    end
    red:set_keepalive(60000, 64)
    return address
end

function _M.route()
    local sid = ngx.var.sid
    local entry = routes:get(sid)
    if entry == nil then
        local address, err = lookup(sid)
        if not address then
            ngx.log(ngx.ERR, "redis lookup failed: ", err)
            return ngx.exit(500)
        end
        if address == ngx.null then
            routes:set(sid, false, MISSING_TTL)
            return ngx.exit(400)
        end
        local host, port = address:match("^(.+):(%d+)$")
        entry = { host = host, port = tonumber(port) }
        routes:set(sid, entry, ROUTE_TTL)
    elseif entry == false then
        return ngx.exit(400)
    end
    ngx.ctx.route = entry
end

function _M.balance()
    local route = ngx.ctx.route
    local ok, err = balancer.set_current_peer(route.host, route.port)
    if not ok then
        ngx.log(ngx.ERR, "set_current_peer failed: ", err)
        return ngx.exit(502)
    end
end

return _M
