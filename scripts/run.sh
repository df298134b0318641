#!/bin/sh
# `make run`: `lakehouse serve` on ./data (or $1). The first time, it runs
# `lakehouse demo` into the directory (a year of order events across the
# tiers) when that command exists, else creates the sample table `orders`
# (examples/orders.json) with a few events. Then it prints what to try (an
# append, a query over HTTP, psql) and serves in the foreground until
# Ctrl-C or SIGTERM (a graceful stop: requests in flight finish, exit 0).
#
# LAKEHOUSE_HTTP / LAKEHOUSE_PG (or any LAKEHOUSE_<OPTION>) change the
# addresses; the defaults are 127.0.0.1:8080 and 127.0.0.1:5433.
set -e
DATA=${1:-./data}
LH=${LH:-./build/lakehouse}
HTTP=${LAKEHOUSE_HTTP:-127.0.0.1:8080}
PG=${LAKEHOUSE_PG:-127.0.0.1:5433}

if [ ! -f "$DATA/lakehouse.json" ] && $LH demo --help >/dev/null 2>&1; then
    # `lakehouse demo DIR` (the tiering work): a year of orders across the
    # tiers. Until it exists, the sample below.
    $LH demo "$DATA"
elif [ ! -f "$DATA/lakehouse.json" ]; then
    $LH init "$DATA" >/dev/null
    $LH table create "$DATA" --schema examples/orders.json >/dev/null
    i=1
    while [ $i -le 3 ]; do
        cat <<JSON
{"stream": "order-$i", "expected_version": "no_stream", "type": "OrderPlaced", "data": {"tenant_id": "acme", "product_id": $((40 + i)), "qty": $i, "price": "19.99"}}
{"stream": "order-$i", "type": "OrderPaid", "data": {"tenant_id": "acme", "product_id": $((40 + i)), "qty": $i, "price": "19.99"}}
JSON
        i=$((i + 1))
    done | $LH append "$DATA" orders --batch 6 >/dev/null
    echo "created $DATA with the table orders and 6 sample events"
fi

# The query to suggest: over the orders table once SQL reads the event
# tables, else one that runs anywhere.
QUERY="SELECT tenant_id, count(*) AS orders FROM orders GROUP BY 1"
if ! $LH sql "$DATA" -c "SELECT count(*) FROM orders" >/dev/null 2>&1; then
    QUERY="SELECT n, n * n AS square FROM generate_series(1, 5) AS g(n)"
fi

H=$HTTP
PGHOST=${PG%:*}
PGPORT=${PG##*:}
cat <<EOF

Try, from another terminal:

  # append events (NDJSON; 200 once durable, with where each landed)
  curl -s http://$H/v1/tables/orders/events -H 'Content-Type: application/x-ndjson' \\
    --data-binary '{"stream": "order-9", "type": "OrderPlaced", "data": {"tenant_id": "acme", "product_id": 7, "qty": 1, "price": "5.00"}}'

  # read a stream, or follow the whole table (Server-Sent Events)
  curl -s http://$H/v1/tables/orders/streams/order-1
  curl -sN http://$H/v1/tables/orders/events -H 'Accept: text/event-stream'

  # a SQL query (json, or "format": "csv" / "ndjson"; "params": [...] for \$1)
  curl -s http://$H/v1/query -d '{"sql": "$QUERY"}'

  # the PostgreSQL protocol (any user and database while no token exists)
  psql -h $PGHOST -p $PGPORT -c "$QUERY"
  psql -h $PGHOST -p $PGPORT          # then \dt, \d orders

  # the API: http://$H/v1/openapi.json, metrics: http://$H/metrics

Ctrl-C stops the server.

EOF
exec $LH serve "$DATA" --http "$HTTP" --pg "$PG"
