from celery import Celery

from shop import signup

app = Celery("shop")
app.conf.task_always_eager = True
app.conf.broker_url = "memory://"
app.conf.result_backend = "cache+memory://"


@app.task
def join_badly(name):
    signup.signup(name)


@app.task
def join(name):
    signup.signup_bridged(name)
