#!/bin/sh
# Regenerates tests/fuzz/request_corpus/ (the seeds of fuzz_request) from the
# text-format requests below with protoc --encode. Run from the repository
# root; the seeds are committed so the build needs no protoc step for them.
set -eu
out=tests/fuzz/request_corpus
mkdir -p "$out"
enc() {   # enc NAME MESSAGE TEXT
    printf '%s\n' "$3" | protoc --encode="grading.v1.$2" -Iproto -I/usr/include grading/v1/grading.proto >"$out/$1.bin"
}
enc record_every_kind RecordEventsRequest '
events { event_id: "e1" seller_id: "s1" occurred_at { seconds: 1790000000 }
         order_paid { order_id: "o1" product_id: "p1" amount: 15000 currency: "KRW" ship_within_days: 2 } }
events { event_id: "e2" marketplace: "testmart" seller_id: "s1" occurred_at { seconds: 1790003600 nanos: 5 }
         order_shipped { order_id: "o1" tracking_valid: true } }
events { event_id: "e3" seller_id: "s1" occurred_at { seconds: 1790090000 } order_delivered { order_id: "o1" auto_completed: true } }
events { event_id: "e4" seller_id: "s1" occurred_at { seconds: 1790090000 } order_cancelled { order_id: "o2" fault: SELLER reason: OUT_OF_STOCK } }
events { event_id: "e5" seller_id: "s1" occurred_at { seconds: 1790090000 } order_returned { order_id: "o1" fault: BUYER } }
events { event_id: "e6" seller_id: "s1" occurred_at { seconds: 1790090000 } order_exchanged { order_id: "o1" fault: PLATFORM } }
events { event_id: "e7" seller_id: "s1" occurred_at { seconds: 1790090000 } non_receipt_reported { order_id: "o1" } }
events { event_id: "e8" seller_id: "s1" occurred_at { seconds: 1790090000 } inquiry_received { inquiry_id: "q1" } }
events { event_id: "e9" seller_id: "s1" occurred_at { seconds: 1790090000 } inquiry_answered { inquiry_id: "q1" } }
events { event_id: "e10" seller_id: "s1" occurred_at { seconds: 1790090000 } buyer_review { order_id: "o1" rating: 4 recommendation: RECOMMEND } }
events { event_id: "e11" seller_id: "s1" occurred_at { seconds: 1790090000 } delivery_satisfaction { order_id: "o1" score: 80 } }
events { event_id: "e12" seller_id: "s1" occurred_at { seconds: 1790090000 } platform_revenue { amount: 500 currency: "" } }
events { event_id: "e13" seller_id: "s1" occurred_at { seconds: 1790090000 } custom { name: "live_streams" value: 2.5 } }'
enc record_nul_seller RecordEventsRequest '
events { event_id: "e1" seller_id: "a\000x" occurred_at { seconds: 1790000000 } order_shipped { order_id: "o1" } }'
enc record_bad_utf8 RecordEventsRequest '
events { event_id: "e\377" seller_id: "s\303" occurred_at { seconds: 1790000000 } custom { name: "\300\257" value: 1 } }'
enc record_usd_future RecordEventsRequest '
events { event_id: "e1" seller_id: "s1" occurred_at { seconds: 1900000000 }
         order_paid { order_id: "o1" product_id: "p1" amount: 1000000000000000 currency: "USD" } }'
enc record_hangul_ids RecordEventsRequest '
events { event_id: "\354\205\200" marketplace: "zigzag" seller_id: "\354\205\200\353\237\254" occurred_at { seconds: 1790000000 } order_shipped { order_id: "o 1" } }'
enc metrics GetSellerMetricsRequest 'marketplace: "testmart" seller_id: "s1" as_of { seconds: 1790000000 }'
enc boosts GetRankingBoostsRequest 'marketplace: "testmart" seller_ids: "s1" seller_ids: "s\000" seller_ids: "s3"'
enc close ClosePeriodRequest 'marketplace: "testmart" kind: MONTH period: "2026-10" dry_run: true'
