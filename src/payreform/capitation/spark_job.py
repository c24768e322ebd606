"""Entry point for ``spark-submit``: the ``payreform`` command line as a Spark application.

``spark-submit`` runs a Python file, not a console command. This file starts the Spark session
from the settings ``spark-submit`` gives (master, executors, memory), then hands its arguments
to the ``payreform`` command line, so that a chapter's statistics pass runs on the cluster
(``--set engine=spark``) while the rest runs in the driver, here::

    spark-submit --master yarn --deploy-mode client --num-executors 20 --executor-memory 4g \\
        "$(python -c 'import payreform.capitation.spark_job as m; print(m.__file__)')" \\
        run gz-capitation --data /shared/city.parquet --set engine=spark --out reports/city

The data file must be readable at the same path by the driver and every executor (a shared
file system); leave ``spark_master`` unset, since the session ``spark-submit`` configured is
used. Records on HDFS, S3 or in a Hive table are analysed from Python instead, as a Spark
DataFrame: ``payreform.capitation.analyse_capitation(spark.table("records"), engine="spark")``.
The session is stopped when the command ends.
"""

from __future__ import annotations

import sys
import warnings

from payreform.io.spark_source import _PANDAS_WARNING


def main(arguments: list[str] | None = None) -> None:
    """Start the session ``spark-submit`` configured, run the command line, stop the session.

    Examples
    --------
    >>> main(["chapters", "gz-capitation"])  # doctest: +SKIP
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.appName("payreform").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # the command line's own messages stay readable
    from payreform.cli import main as command_line

    try:
        command_line.main(args=sys.argv[1:] if arguments is None else arguments,
                          prog_name="payreform", standalone_mode=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
