import sys

from rig.drills.campaign import main

sys.exit(main())
