"""redis-py: a pipeline, MULTI/EXEC, an error, pub/sub with a message pushed, RESP2 and RESP3."""
import sys
import time
import redis

port = int(sys.argv[1])
protocol = int(sys.argv[2])
r = redis.Redis(host="127.0.0.1", port=port, db=1, protocol=protocol)
r.set("counter", 0)
pipe = r.pipeline(transaction=False)
for i in range(5):
    pipe.incr("counter")
pipe.get("counter")
pipe.execute()
tx = r.pipeline(transaction=True)
tx.set("balance:a", 100)
tx.decrby("balance:a", 30)
tx.incrby("balance:b", 30)
tx.execute()
try:
    r.lpush("counter", "x")
except redis.ResponseError:
    pass
r.hset("profile", mapping={"name": "bob", "age": "41"})
r.hgetall("profile")
r.smembers("nothing")
r.zadd("scores", {"a": 1.5})
r.zscore("scores", "a")
sub = r.pubsub()
sub.subscribe("news", "alerts")
for _ in range(2):
    sub.get_message(timeout=1)
r.publish("news", "hello")
time.sleep(0.1)
sub.get_message(timeout=1)
sub.unsubscribe()
sub.get_message(timeout=1)
sub.get_message(timeout=1)
sub.close()
r.close()
