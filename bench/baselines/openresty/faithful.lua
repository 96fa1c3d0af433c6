-- The old proxy's logic as ../shared/SYSTEM.md describes it: a fresh Redis connection and one
-- HGET hosts <sid> on every request; 400 without an entry, 500 when Redis is unreachable.
local redis = require "nginx.redis"

local red = redis:new()
red:set_timeout(1000)
local ok, err = red:connect(ngx.var.redis_host, tonumber(ngx.var.redis_port))
if not ok then
    ngx.log(ngx.ERR, "redis connect failed: ", err)
    return ngx.exit(500)
end

local address, err = red:hget("hosts", ngx.var.sid)
red:close()
if not address then
    ngx.log(ngx.ERR, "redis hget failed: ", err)
    return ngx.exit(500)
end
if address == ngx.null then
    return ngx.exit(400)
end

ngx.var.upstream = address
