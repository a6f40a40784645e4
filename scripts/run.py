"""
`make run`: the web server, a Celery worker and Celery beat together; Ctrl-C stops all three.

Run after migrate and seed_demo (the Makefile does both). HOST and PORT come from the environment.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def main():
    import django

    django.setup()
    from django.conf import settings

    from portal import demo

    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    python = sys.executable
    commands = {
        "web": [python, "manage.py", "runserver", f"{host}:{port}"],
        "worker": [python, "-m", "celery", "-A", "portal", "worker", "-l", "info", "--concurrency", "2"],
        "beat": [
            python,
            "-m",
            "celery",
            "-A",
            "portal",
            "beat",
            "-l",
            "info",
            "--schedule",
            settings.CELERY_BEAT_SCHEDULE_FILENAME,
        ],
    }
    processes = {name: subprocess.Popen(command, cwd=ROOT) for name, command in commands.items()}

    broker = "Redis" if settings.REDIS_URL else "文件系统（var/celery/）"
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    banner = [
        "",
        f"  门户地址：http://{host}:{port}/    后台：http://{host}:{port}/admin/",
        f"  数据库：{database}    消息队列：{broker}",
        "  演示账户：",
        *(f"    {login:<10} {password:<12} {who}" for who, login, password in demo.demo_logins()),
        f"  {demo.staff_code_hint()}",
        "  按 Ctrl-C 停止全部服务。",
        "",
    ]
    print("\n".join(banner), flush=True)

    def stop(*_):
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} 已退出（代码 {process.returncode}），正在停止其余服务。", flush=True)
                    return process.returncode or 1
            time.sleep(0.5)
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
