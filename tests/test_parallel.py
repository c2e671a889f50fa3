"""Searches over a chain in worker processes (loky, a Dask cluster) and in threads."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skchain import ChainRegressor, make_chain
from skchain._seeding import global_random_state

A_COLUMNS = [f"a{i}" for i in range(6)]
GRID = {"regressor__hidden_units": [(4,), (8,)]}
TESTS = str(Path(__file__).parent)


@pytest.fixture
def worker_environment(monkeypatch):
    # Worker processes must import the network-A builder (tests/conftest.py)
    # and should not each start one TensorFlow thread per core.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [TESTS, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")


def _search(pre, n_jobs=None):
    chain = make_chain(
        pre,
        representation_columns=A_COLUMNS,
        categorical_columns=["store"],
        numeric_columns=["age"],
        regressor=ChainRegressor(epochs=2, random_state=0),
    )
    return GridSearchCV(chain, GRID, cv=2, n_jobs=n_jobs)


def test_grid_search_with_two_worker_processes(fitted_pre, dataset_b, worker_environment):
    df, y = dataset_b
    single = _search(fitted_pre).fit(df, y)
    parallel = _search(fitted_pre, n_jobs=2).fit(df, y)
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], single.cv_results_["mean_test_score"], rtol=1e-3
    )
    assert parallel.best_params_ == single.best_params_


def test_grid_search_on_a_local_dask_cluster(fitted_pre, dataset_b, worker_environment):
    distributed = pytest.importorskip("distributed")
    df, y = dataset_b
    single = _search(fitted_pre).fit(df, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            on_cluster = _search(fitted_pre, n_jobs=-1).fit(df, y)
        # The candidates really ran in the two worker processes.
        assert len(client.scheduler_info()["workers"]) == 2
    # Dask runs tasks in a worker thread beside an event loop that also draws
    # from Python's global random: the seeded fits must not depend on it.
    for split in ("split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(
            on_cluster.cv_results_[split], single.cv_results_[split], rtol=1e-5
        )
    assert on_cluster.best_params_ == single.best_params_


def test_grid_search_on_joblib_threads_equals_one_thread(fitted_pre, dataset_b):
    # Op determinism, TF_DETERMINISTIC_OPS and the global generators belong to the
    # process: two threads' fits used to switch them off under each other (scikeras
    # then failed with KeyError: 'TF_DETERMINISTIC_OPS'). Each seeded fit must give
    # what it gives alone, and the process's settings must be as before.
    df, y = dataset_b
    grid = {**GRID, "regressor__learning_rate": [1e-3, 1e-2]}
    single = _search(fitted_pre).set_params(param_grid=grid, error_score="raise").fit(df, y)
    before = global_random_state()
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = _search(fitted_pre, n_jobs=2).set_params(param_grid=grid, error_score="raise")
        threaded.fit(df, y)
    assert global_random_state() == before
    for split in ("split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(threaded.cv_results_[split], single.cv_results_[split])
    np.testing.assert_array_equal(threaded.predict(df), single.predict(df))


def test_unseeded_fits_in_two_threads(fitted_pre, dataset_b):
    # Unseeded fits in threads draw from the global generators (no result to compare);
    # they must neither fail nor leave op determinism switched on.
    df, y = dataset_b
    chain = _search(fitted_pre).estimator.set_params(regressor__random_state=None)
    before = global_random_state()["op_determinism"]
    with ThreadPoolExecutor(2) as pool:
        fitted = list(pool.map(lambda _: clone(chain).fit(df, y), range(2)))
    assert global_random_state()["op_determinism"] == before
    for one in fitted:
        assert np.isfinite(one.predict(df)).all()
