"""daily_orders: every morning, load yesterday's orders.

The DAG only schedules; the work runs in the published image as the Slipway task `daily-load`
(see tasks: in .slipway.yml), so a new image changes what runs without touching Airflow.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(
    dag_id="daily_orders",
    schedule="0 5 * * *",  # 05:00 UTC, after the exports of the previous day have landed
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["orders", "slipway"],
) as dag:
    # {{ ds }} is the start of the data interval: yesterday's date for this schedule.
    # Reruns are safe: a load replaces that day's output.
    load = BashOperator(
        task_id="daily_load",
        bash_command="slipway task run daily-load --environment production --env ETL_DATE={{ ds }} --wait",
    )
