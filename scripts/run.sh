#!/bin/sh
# `make run`: the main job on the embedded default. Until the server lands
# (issue 7: `lakehouse serve`), it initializes a data directory with a
# sample table, appends sample events and reads them back.
set -e
DATA=${1:-./data}
LH=${LH:-./build/lakehouse}
if [ ! -f "$DATA/lakehouse.json" ]; then
    $LH init "$DATA"
fi
if ! $LH table list "$DATA" | grep -qx orders; then
    $LH table create "$DATA" --schema examples/orders.json >/dev/null
    echo "created table orders"
fi
n=$($LH read "$DATA" orders --from 0 | wc -l)
stream="order-$((n / 3 + 1))"
echo "appending 3 events to stream $stream:"
cat <<JSON | $LH append "$DATA" orders --batch 3
{"stream": "$stream", "expected_version": "no_stream", "type": "OrderPlaced", "data": {"tenant_id": "acme", "product_id": 42, "qty": 2, "price": "19.99"}}
{"stream": "$stream", "type": "OrderPaid", "data": {"tenant_id": "acme", "product_id": 42, "qty": 2, "price": "19.99"}}
{"stream": "$stream", "type": "OrderShipped", "data": {"tenant_id": "acme", "product_id": 42, "qty": 2, "price": "19.99", "note": "express"}}
JSON
echo "reading stream $stream back:"
$LH read "$DATA" orders --stream "$stream"
echo "the table holds $($LH read "$DATA" orders --from 0 | wc -l) events in $DATA"
