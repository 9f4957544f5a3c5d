"""A TCP proxy whose answers (server to client) are throttled to RATE bytes per second in all, across connections.

Usage: throttled-proxy.py TARGET_PORT RATE. Listens on 127.0.0.1 at a free port and prints it on a line of its own;
forwards every connection to 127.0.0.1:TARGET_PORT. Tests use it to make a restore take long enough to show progress
on any machine, however fast.
"""
import socket
import sys
import threading
import time

target_port = int(sys.argv[1])
rate = float(sys.argv[2])
lock = threading.Lock()
next_free = [time.monotonic()]


def throttle(size):
    # Every chunk takes its share of the one budget: the total rate holds however many connections there are.
    with lock:
        start = max(next_free[0], time.monotonic())
        next_free[0] = start + size / rate
    delay = start + size / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def pump(source, destination, throttled):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            if throttled:
                throttle(len(data))
            destination.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, destination):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    server = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pump, args=(client, server, False), daemon=True).start()
    pump(server, client, True)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
