from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image, seed
from bluegreen.local.seed_controlled import NativeSeed
from bluegreen.specfiles.loader import load_spec
from deploy_helpers import REALISTIC, write_spec


def test_smoke(realistic_aws, workdir, product_on_virtual_clock, capsys):
    path = write_spec(workdir, "checkout", timings=REALISTIC)
    spec = load_spec(path).spec
    aws = Aws(spec.region, endpoint_url=realistic_aws.endpoint_url)
    seed(aws, spec, engine=NativeSeed(), deregistration_delay=5)
    put_image(aws, "checkout", "v2")
    rc = main(["plan", str(path), "--image-tag", "v2"])
    out = capsys.readouterr()
    open("/tmp/plan.txt","w").write(out.out+out.err)
    rc = main(["deploy", str(path), "--image-tag", "v2"])
    out = capsys.readouterr()
    print(out.out[-6000:], out.err[-3000:])
    assert rc == 0
